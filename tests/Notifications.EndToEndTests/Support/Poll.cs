namespace Notifications.EndToEndTests.Support;

/// <summary>
/// Waits for the system to reach a state, with a generous deadline (a deadline for something that should happen, not a
/// measure of how fast it does). The interval grows from 100 ms to 2 s, so that a long wait stays well inside the API's
/// per-caller rate limit (100 requests a minute by default).
/// </summary>
internal static class Poll
{
    public static readonly TimeSpan DefaultDeadline = TimeSpan.FromMinutes(2);

    private static readonly TimeSpan FirstInterval = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan LongestInterval = TimeSpan.FromSeconds(2);

    /// <summary>Probes until <paramref name="done"/> holds for what the probe returned, and returns that; fails the test at the deadline.</summary>
    public static async Task<T> UntilAsync<T>(string what, Func<Task<T>> probe, Func<T, bool> done, TimeSpan? deadline = null)
    {
        var giveUpAt = DateTimeOffset.UtcNow + (deadline ?? DefaultDeadline);
        var interval = FirstInterval;
        while (true)
        {
            var value = await probe();
            if (done(value))
            {
                return value;
            }
            if (DateTimeOffset.UtcNow > giveUpAt)
            {
                throw new TimeoutException($"Gave up waiting until {what}; last seen: {Describe(value)}");
            }
            await Task.Delay(interval, TestContext.Current.CancellationToken);
            interval = TimeSpan.FromTicks(Math.Min(interval.Ticks * 3 / 2, LongestInterval.Ticks));
        }
    }

    private static string Describe<T>(T value) => value switch
    {
        System.Collections.IEnumerable items and not string => $"[{string.Join(", ", items.Cast<object?>())}]",
        _ => value?.ToString() ?? "null",
    };
}
