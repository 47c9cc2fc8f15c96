using Microsoft.Extensions.Options;
using Notifications.Domain.Redis;
using StackExchange.Redis;

namespace Notifications.EmailWorker.Email;

/// <summary>
/// How many emails one user may receive per sliding window (default 10 an hour), shared by every worker: a sorted set
/// per user (<see cref="RedisKeys.EmailUserRate"/>) of the jobs emailed, scored by when, checked and added to by one
/// Lua script. A job counts once however often it is attempted (it is the set's member), and gives its place back
/// when it is not sent after all.
/// </summary>
internal sealed class EmailUserRateLimiter(IDatabase redis, IOptions<EmailOptions> options, TimeProvider timeProvider)
{
    /// <summary>
    /// KEYS: the user's set. ARGV: 1 now (Unix ms), 2 window (ms), 3 limit, 4 job id.
    /// Returns {1} when the job may go (and records it), {0, Unix ms when the oldest entry leaves the window} when not.
    /// </summary>
    private const string TakeScript = """
        redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', tonumber(ARGV[1]) - tonumber(ARGV[2]))
        if not redis.call('ZSCORE', KEYS[1], ARGV[4]) and redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[3]) then
          local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
          return {0, tonumber(oldest[2]) + tonumber(ARGV[2])}
        end
        redis.call('ZADD', KEYS[1], ARGV[1], ARGV[4])
        redis.call('PEXPIRE', KEYS[1], ARGV[2])
        return {1}
        """;

    private readonly EmailUserRateLimitOptions _options = options.Value.UserRateLimit;

    public bool Enabled => _options.Enabled;

    /// <summary>Null when the job may be emailed now (it is counted); otherwise when the user's window frees a place.</summary>
    public async Task<DateTimeOffset?> TryTakeAsync(string userId, string jobId)
    {
        var now = timeProvider.GetUtcNow().ToUnixTimeMilliseconds();
        var result = (RedisResult[])(await redis.ScriptEvaluateAsync(TakeScript,
            [RedisKeys.EmailUserRate(userId)],
            [now, (long)_options.Window.TotalMilliseconds, _options.Limit, jobId]))!;
        return (int)result[0] == 1 ? null : DateTimeOffset.FromUnixTimeMilliseconds((long)result[1]);
    }

    /// <summary>Gives the job's place back: it was not sent.</summary>
    public Task ReleaseAsync(string userId, string jobId) => redis.SortedSetRemoveAsync(RedisKeys.EmailUserRate(userId), jobId);
}
