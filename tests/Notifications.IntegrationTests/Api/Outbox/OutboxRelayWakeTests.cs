using Microsoft.Extensions.Time.Testing;
using Notifications.Api.Outbox;

namespace Notifications.IntegrationTests.Api.Outbox;

/// <summary>The relay's wait between passes, on a clock that moves only when the test advances it.</summary>
public sealed class OutboxRelayWakeTests
{
    private static readonly TimeSpan PollInterval = TimeSpan.FromSeconds(1);

    /// <summary>How long a wait that should have ended may take to be seen ending: generous, for a loaded machine.</summary>
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);

    private static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    private readonly FakeTimeProvider _time = new();

    [Fact]
    public async Task WaitAsync_NotWoken_EndsWhenThePollIntervalHasPassed()
    {
        var wake = new OutboxRelayWake(_time);

        var waiting = wake.WaitAsync(PollInterval, Cancellation);
        _time.Advance(PollInterval - TimeSpan.FromMilliseconds(1));
        Assert.False(waiting.IsCompleted);
        _time.Advance(TimeSpan.FromMilliseconds(1));

        await waiting.WaitAsync(Deadline, Cancellation);
    }

    [Fact]
    public async Task Set_DuringAWait_EndsIt()
    {
        var wake = new OutboxRelayWake(_time);
        var waiting = wake.WaitAsync(PollInterval, Cancellation);
        Assert.False(waiting.IsCompleted);

        wake.Set();

        await waiting.WaitAsync(Deadline, Cancellation);
    }

    [Fact]
    public async Task SetsBeforeAWait_EndItAtOnce_AndFoldIntoOne()
    {
        var wake = new OutboxRelayWake(_time);
        wake.Set();
        wake.Set();
        wake.Set();

        await wake.WaitAsync(PollInterval, Cancellation).WaitAsync(Deadline, Cancellation);

        var next = wake.WaitAsync(PollInterval, Cancellation);
        Assert.False(next.IsCompleted);
        _time.Advance(PollInterval);
        await next.WaitAsync(Deadline, Cancellation);
    }

    [Fact]
    public async Task WaitAsync_Cancelled_Throws()
    {
        var wake = new OutboxRelayWake(_time);
        using var stopping = CancellationTokenSource.CreateLinkedTokenSource(Cancellation);
        var waiting = wake.WaitAsync(PollInterval, stopping.Token);

        await stopping.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting.WaitAsync(Deadline, Cancellation));
    }
}
