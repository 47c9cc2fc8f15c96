using System.Runtime.ExceptionServices;
using Microsoft.Extensions.Options;
using Notifications.Domain.Redis;
using StackExchange.Redis;

namespace Notifications.Api.RateLimiting;

/// <summary>
/// Counts requests per partition in fixed windows kept in Redis, so all API replicas enforce one limit together.
/// </summary>
/// <remarks>
/// Fixed rather than sliding window: one INCRBY per count, an exact <c>RateLimit-Remaining</c>/<c>RateLimit-Reset</c>
/// to report, and a key that expires by itself. Its known cost, up to twice the limit in a burst straddling a window
/// boundary, is acceptable for abuse protection; the email quota, where it would not be, has its own script.
/// Requests of one partition that arrive while its count is on its way to Redis are counted together by the next
/// call (one INCRBY of their number), so a busy producer costs one Redis call per round trip rather than one per
/// request; each request still gets the count it would have had alone (the total less the requests queued after it).
/// </remarks>
internal sealed partial class RedisFixedWindowRateLimiter(
    IDatabase redis,
    IOptions<UserRateLimitOptions> options,
    TimeProvider timeProvider,
    ILogger<RedisFixedWindowRateLimiter> logger)
{
    // INCRBY and PEXPIRE in one script: a crash between the two would otherwise leave a counter that never expires.
    // The key is new when the count equals the increment. Rejected requests are counted too, which is harmless: the
    // window's end does not move.
    private const string IncrementScript = """
        local increment = tonumber(ARGV[2])
        local count = redis.call('INCRBY', KEYS[1], increment)
        if count == increment then
            redis.call('PEXPIRE', KEYS[1], ARGV[1])
        end
        return count
        """;

    private readonly Lock _gate = new();

    /// <summary>The keys whose count is on its way to Redis, with the requests waiting to be counted next.</summary>
    private readonly Dictionary<string, KeyInFlight> _inFlight = new(StringComparer.Ordinal);

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
            count = await CountAsync(RedisKeys.RateLimit(partition, window.Index), (long)settings.Window.TotalMilliseconds)
                .WaitAsync(settings.RedisTimeout);
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

    /// <summary>Adds one request to <paramref name="key"/>'s count and returns the count up to and including it.</summary>
    private async Task<long> CountAsync(string key, long windowMilliseconds)
    {
        PendingIncrement increment;
        int position;
        var send = false;
        lock (_gate)
        {
            if (_inFlight.TryGetValue(key, out var inFlight))
            {
                increment = inFlight.Next ??= new PendingIncrement();
            }
            else
            {
                _inFlight[key] = new KeyInFlight();
                increment = new PendingIncrement();
                send = true;
            }
            position = increment.Requests++;
        }
        if (send)
        {
            _ = SendAsync(key, increment, windowMilliseconds);
        }

        var outcome = await increment.Outcome.Task;
        if (outcome.Failure is { } failure)
        {
            ExceptionDispatchInfo.Throw(failure);
        }
        // The increment's requests are frozen once it is sent; this one is counted after the `position` before it.
        return outcome.Total - increment.Requests + position + 1;
    }

    /// <summary>Sends <paramref name="increment"/>, then whatever queued for the key meanwhile, until nothing has.</summary>
    private async Task SendAsync(string key, PendingIncrement increment, long windowMilliseconds)
    {
        while (true)
        {
            try
            {
                var total = await redis.ScriptEvaluateAsync(IncrementScript, [key], [windowMilliseconds, increment.Requests]);
                increment.Outcome.TrySetResult(new IncrementOutcome((long)total, null));
            }
            catch (Exception exception)
            {
                increment.Outcome.TrySetResult(new IncrementOutcome(0, exception));
            }

            lock (_gate)
            {
                var inFlight = _inFlight[key];
                if (inFlight.Next is null)
                {
                    _inFlight.Remove(key);
                    return;
                }
                increment = inFlight.Next;
                inFlight.Next = null;
            }
        }
    }

    private sealed class KeyInFlight
    {
        /// <summary>The requests that arrived while the key's count was in flight: they go in the next call.</summary>
        public PendingIncrement? Next { get; set; }
    }

    private sealed class PendingIncrement
    {
        /// <summary>How many requests this call counts; changed only under the gate, before the call is sent.</summary>
        public int Requests { get; set; }

        public TaskCompletionSource<IncrementOutcome> Outcome { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    /// <summary>
    /// The key's count after the call, or why there is none: a result rather than a fault, so that when every request
    /// of the call has stopped waiting (past the Redis timeout) no unobserved exception is left behind.
    /// </summary>
    private readonly record struct IncrementOutcome(long Total, Exception? Failure);

    private static partial class Log
    {
        [LoggerMessage(EventId = 3911, Level = LogLevel.Warning,
            Message = "Redis is unreachable: API rate limits are not enforced until it answers again")]
        public static partial void RedisUnavailable(ILogger logger, Exception exception);

        [LoggerMessage(EventId = 3912, Level = LogLevel.Information, Message = "Redis answers again: API rate limits are enforced")]
        public static partial void RedisAvailableAgain(ILogger logger);
    }
}
