using Microsoft.Extensions.Options;
using Notifications.Domain.Redis;
using StackExchange.Redis;

namespace Notifications.Api.RateLimiting;

/// <summary>
/// Counts requests per partition in fixed windows kept in Redis, so all API replicas enforce one limit together.
/// </summary>
/// <remarks>
/// Fixed rather than sliding window: one INCR per request, an exact <c>RateLimit-Remaining</c>/<c>RateLimit-Reset</c>
/// to report, and a key that expires by itself. Its known cost, up to twice the limit in a burst straddling a window
/// boundary, is acceptable for abuse protection; the email quota, where it would not be, has its own script.
/// </remarks>
internal sealed partial class RedisFixedWindowRateLimiter(
    IDatabase redis,
    IOptions<UserRateLimitOptions> options,
    TimeProvider timeProvider,
    ILogger<RedisFixedWindowRateLimiter> logger)
{
    // INCR and PEXPIRE in one script: a crash between the two would otherwise leave a counter that never expires.
    // Rejected requests are counted too, which is harmless: the window's end does not move.
    private const string IncrementScript = """
        local count = redis.call('INCR', KEYS[1])
        if count == 1 then
            redis.call('PEXPIRE', KEYS[1], ARGV[1])
        end
        return count
        """;

    private int _redisUnavailable;

    /// <summary>
    /// Counts one request of <paramref name="partition"/> against <paramref name="permitsPerWindow"/>; null when Redis
    /// could not be asked (fail open).
    /// </summary>
    public async Task<RateLimitDecision?> AcquireAsync(string partition, int permitsPerWindow)
    {
        var settings = options.Value;
        var window = FixedWindow.At(timeProvider.GetUtcNow(), settings.Window);
        long count;
        try
        {
            // The key lives one window length from its first request, which covers the rest of its window even
            // when replicas' clocks differ a little.
            var result = await redis.ScriptEvaluateAsync(
                    IncrementScript,
                    [RedisKeys.RateLimit(partition, window.Index)],
                    [(long)settings.Window.TotalMilliseconds])
                .WaitAsync(settings.RedisTimeout);
            count = (long)result;
        }
        catch (Exception exception) when (exception is RedisException or TimeoutException)
        {
            // Fail open: Redis is transport, not the source of truth, and the API must keep accepting notifications
            // with only Postgres. Warn once per outage rather than once per request.
            if (Interlocked.Exchange(ref _redisUnavailable, 1) == 0)
            {
                Log.RedisUnavailable(logger, exception);
            }
            return null;
        }

        if (Interlocked.Exchange(ref _redisUnavailable, 0) == 1)
        {
            Log.RedisAvailableAgain(logger);
        }
        return RateLimitDecision.FromCount(count, permitsPerWindow, window.ResetAfter);
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 3911, Level = LogLevel.Warning,
            Message = "Redis is unreachable: API rate limits are not enforced until it answers again")]
        public static partial void RedisUnavailable(ILogger logger, Exception exception);

        [LoggerMessage(EventId = 3912, Level = LogLevel.Information, Message = "Redis answers again: API rate limits are enforced")]
        public static partial void RedisAvailableAgain(ILogger logger);
    }
}
