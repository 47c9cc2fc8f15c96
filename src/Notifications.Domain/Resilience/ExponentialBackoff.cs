namespace Notifications.Domain.Resilience;

/// <summary>
/// Delays that double from <see cref="First"/> with each consecutive failure, capped at <see cref="Longest"/>: the
/// outbox relay's wait while Redis is down, a worker's scheduled retries (with <see cref="WithJitter"/>, so many jobs that
/// failed together do not retry together).
/// </summary>
public sealed record ExponentialBackoff(TimeSpan First, TimeSpan Longest)
{
    /// <summary>The delay before retry number <paramref name="failures"/> (1 = after the first failure).</summary>
    public TimeSpan DelayAfter(int failures)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(failures, 1);
        // Shifting past 2^16 seconds' worth would overflow long before any sane cap; the cap applies anyway.
        var doubled = First.Ticks << Math.Min(failures - 1, 16);
        return TimeSpan.FromTicks(Math.Min(Longest.Ticks, doubled));
    }

    /// <summary>
    /// <see cref="DelayAfter"/> spread by "equal jitter": half the delay fixed, the other half random, so the wait is
    /// never shorter than half the nominal delay.
    /// </summary>
    public TimeSpan WithJitter(int failures, Random random)
    {
        var delay = DelayAfter(failures);
        var half = delay.Ticks / 2;
        return TimeSpan.FromTicks(half + (long)(random.NextDouble() * (delay.Ticks - half)));
    }
}
