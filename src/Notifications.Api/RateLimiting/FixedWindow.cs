namespace Notifications.Api.RateLimiting;

/// <summary>The fixed window an instant falls in: windows are numbered from the Unix epoch, so every replica agrees.</summary>
internal readonly record struct FixedWindow(long Index, TimeSpan ResetAfter)
{
    public static FixedWindow At(DateTimeOffset now, TimeSpan length)
    {
        var lengthMs = (long)length.TotalMilliseconds;
        var nowMs = now.ToUnixTimeMilliseconds();
        var index = nowMs / lengthMs;
        return new FixedWindow(index, TimeSpan.FromMilliseconds((index + 1) * lengthMs - nowMs));
    }
}

/// <summary>The outcome of counting one request against its partition's window.</summary>
internal readonly record struct RateLimitDecision(bool IsAllowed, int Limit, int Remaining, TimeSpan ResetAfter)
{
    public static RateLimitDecision FromCount(long count, int limit, TimeSpan resetAfter) =>
        new(count <= limit, limit, (int)Math.Max(0, limit - count), resetAfter);

    /// <summary>Whole seconds until the window resets, rounded up (a header saying 0 would invite an immediate retry).</summary>
    public long ResetAfterSeconds => Math.Max(1, (long)Math.Ceiling(ResetAfter.TotalSeconds));
}
