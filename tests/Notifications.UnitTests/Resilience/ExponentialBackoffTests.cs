using Notifications.Domain.Resilience;

namespace Notifications.UnitTests.Resilience;

public sealed class ExponentialBackoffTests
{
    private static readonly ExponentialBackoff Backoff = new(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(30));

    [Theory]
    [InlineData(1, 1)]
    [InlineData(2, 2)]
    [InlineData(3, 4)]
    [InlineData(5, 16)]
    [InlineData(6, 30)]
    [InlineData(1000, 30)]
    public void DelayAfter_DoublesFromTheFirstDelayUpToTheCap(int failures, int expectedSeconds) =>
        Assert.Equal(TimeSpan.FromSeconds(expectedSeconds), Backoff.DelayAfter(failures));

    [Fact]
    public void DelayAfter_NoFailureYet_Throws() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => Backoff.DelayAfter(0));

    [Theory]
    [InlineData(1)]
    [InlineData(4)]
    [InlineData(9)]
    public void WithJitter_StaysBetweenHalfAndTheWholeNominalDelay(int failures)
    {
        var random = new Random(42);
        var nominal = Backoff.DelayAfter(failures);
        var delays = Enumerable.Range(0, 200).Select(_ => Backoff.WithJitter(failures, random)).ToList();

        Assert.All(delays, delay => Assert.InRange(delay, nominal / 2, nominal));
        Assert.True(delays.Distinct().Count() > 100, "The jitter spreads the delays.");
    }
}
