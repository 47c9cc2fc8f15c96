using Notifications.Domain.Model;
using Notifications.Domain.Redis;
using StackExchange.Redis;

namespace Notifications.EmailWorker.Consuming;

/// <summary>
/// The global send rate limit of one channel: at most <c>limit</c> provider calls start in each second (numbered from the Unix
/// epoch) across every worker replica, counted in Redis. Each worker takes permits in small blocks, so it asks Redis
/// about once per block rather than per attempt; permits are only good in their own second.
/// </summary>
/// <remarks>
/// A fixed window: a burst may put up to twice the limit into the two halves of a window boundary, which the providers'
/// own limits (per second or per minute) tolerate. Permits a worker took and did not use lapse with their second.
/// </remarks>
internal sealed partial class SendRateLimiter(
    DeliveryChannel channel, int limit, IDatabase redis, TimeProvider timeProvider, ILogger logger)
{
    // Grants what is left of the window, up to the block asked for; sets the expiry with the first grant.
    private const string TakeScript = """
        local used = tonumber(redis.call('GET', KEYS[1]) or '0')
        local granted = math.min(tonumber(ARGV[2]), tonumber(ARGV[1]) - used)
        if granted <= 0 then
            return 0
        end
        redis.call('INCRBY', KEYS[1], granted)
        if used == 0 then
            redis.call('PEXPIRE', KEYS[1], ARGV[3])
        end
        return granted
        """;

    private static readonly TimeSpan KeyTimeToLive = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan RedisRetryDelay = TimeSpan.FromMilliseconds(500);

    // A tenth of the limit per block: few Redis calls, and what a worker leaves unused in a second stays small.
    private readonly int _blockSize = Math.Clamp(limit / 10, 1, 100);
    private readonly Lock _gate = new();
    private long _localSecond = -1;
    private int _localPermits;

    /// <summary>Waits until this worker may call the channel's provider once more.</summary>
    public async ValueTask AcquireAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            var now = timeProvider.GetUtcNow();
            var second = now.ToUnixTimeMilliseconds() / 1000;
            lock (_gate)
            {
                if (_localSecond == second && _localPermits > 0)
                {
                    _localPermits--;
                    return;
                }
            }

            long granted;
            try
            {
                granted = (long)await redis.ScriptEvaluateAsync(
                        TakeScript,
                        [RedisKeys.SendRate(channel, second)],
                        [limit, _blockSize, (long)KeyTimeToLive.TotalMilliseconds])
                    .WaitAsync(DeliveryStream.CommandTimeout, timeProvider, cancellationToken);
            }
            catch (Exception exception) when (exception is RedisException or TimeoutException)
            {
                // Fail closed: the limit protects the provider, and without Redis the worker cannot acknowledge anyway.
                Log.RedisUnavailable(logger, channel, exception);
                await Task.Delay(RedisRetryDelay, timeProvider, cancellationToken);
                continue;
            }

            if (granted > 0)
            {
                lock (_gate)
                {
                    if (_localSecond != second)
                    {
                        _localSecond = second;
                        _localPermits = 0;
                    }
                    _localPermits += (int)granted - 1;
                }
                return;
            }

            // Spent for this second: wait for the next one (a few random milliseconds more, so replicas do not all
            // ask at the very same instant).
            var untilNextSecond = TimeSpan.FromMilliseconds(1000 - now.ToUnixTimeMilliseconds() % 1000 + Random.Shared.Next(1, 10));
            await Task.Delay(untilNextSecond, timeProvider, cancellationToken);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 5120, Level = LogLevel.Warning,
            Message = "Cannot take send permits for channel {Channel} from Redis; retrying")]
        public static partial void RedisUnavailable(ILogger logger, DeliveryChannel channel, Exception exception);
    }
}
