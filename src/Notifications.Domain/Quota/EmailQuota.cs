using System.Globalization;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Notifications.Domain.Redis;
using StackExchange.Redis;

namespace Notifications.Domain.Quota;

/// <summary>
/// The email provider's quota, counted in Redis and shared by every worker: a UTC-day counter
/// (<see cref="RedisKeys.EmailQuotaDay"/>) and a UTC-month counter (<see cref="RedisKeys.EmailQuotaMonth"/>), checked and
/// incremented together by one Lua script, so no number of concurrent workers can take more than the limits; and the
/// quota lock (<see cref="RedisKeys.EmailQuotaLock"/>) that stops normal mail until the exhausted window resets.
/// The worker takes and refunds slots; the scheduler's reconciliation restores counters; the admin metrics read them.
/// </summary>
public sealed partial class EmailQuota(
    IDatabase redis,
    IOptions<EmailQuotaOptions> options,
    TimeProvider timeProvider,
    ILogger<EmailQuota> logger)
{
    /// <summary>The shares of the daily limit at which operators are alerted, once each per UTC day.</summary>
    public static readonly IReadOnlyList<int> AlertPercents = [80, 90, 100];

    // Results of TakeScript (first element).
    private const int Taken = 1;
    private const int Locked = 2;
    private const int DailyLimitReached = 3;
    private const int MonthlyLimitReached = 4;

    /// <summary>
    /// KEYS: 1 day counter, 2 month counter, 3 lock, 4.. one alert marker per alert threshold.
    /// ARGV: 1 daily limit, 2 monthly limit, 3 bypass ('1' for high/critical), 4 now (fixed-width ISO), 5 day counter TTL ms,
    /// 6 month counter TTL ms, 7 day reset (ISO), 8 ms until the day resets, 9 month reset (ISO), 10 ms until the month
    /// resets, 11 alert marker TTL ms, 12.. the day count of each alert threshold (same order as the markers).
    /// Returns {outcome, day count, month count, lock/reset instant or '', percents index (1-based) of each alert crossed…}.
    /// A lock whose reset instant has passed (by the caller's clock) is ignored, so the window reopens on time whatever
    /// the key's own expiry says.
    /// </summary>
    private const string TakeScript = """
        local bypass = ARGV[3] == '1'
        if not bypass then
          local lock = redis.call('GET', KEYS[3])
          if lock and lock > ARGV[4] then
            return {2, 0, 0, lock}
          end
          local day = tonumber(redis.call('GET', KEYS[1]) or '0')
          local month = tonumber(redis.call('GET', KEYS[2]) or '0')
          if month >= tonumber(ARGV[2]) then
            redis.call('SET', KEYS[3], ARGV[9], 'PX', ARGV[10])
            return {4, day, month, ARGV[9]}
          end
          if day >= tonumber(ARGV[1]) then
            redis.call('SET', KEYS[3], ARGV[7], 'PX', ARGV[8])
            return {3, day, month, ARGV[7]}
          end
        end
        local day = redis.call('INCR', KEYS[1])
        if day == 1 then
          redis.call('PEXPIRE', KEYS[1], ARGV[5])
        end
        local month = redis.call('INCR', KEYS[2])
        if month == 1 then
          redis.call('PEXPIRE', KEYS[2], ARGV[6])
        end
        local result = {1, day, month, ''}
        for i = 4, #KEYS do
          if day >= tonumber(ARGV[8 + i]) and redis.call('SET', KEYS[i], '1', 'NX', 'PX', ARGV[11]) then
            table.insert(result, i - 3)
          end
        end
        return result
        """;

    /// <summary>KEYS: day counter, month counter. Gives one slot back to each, never below zero.</summary>
    private const string RefundScript = """
        for i = 1, 2 do
          if tonumber(redis.call('GET', KEYS[i]) or '0') > 0 then
            redis.call('DECR', KEYS[i])
          end
        end
        return 1
        """;

    /// <summary>KEYS: lock. ARGV: 1 reset instant (ISO), 2 ms until then. Never shortens a lock that reaches further.</summary>
    private const string LockScript = """
        local lock = redis.call('GET', KEYS[1])
        if lock and lock >= ARGV[1] then
          return 0
        end
        redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
        return 1
        """;

    /// <summary>
    /// KEYS: day counter, month counter. ARGV: 1 day count, 2 month count, 3 day TTL ms, 4 month TTL ms.
    /// Raises each counter to at least the given count (never lowers it). Returns the counts now stored.
    /// </summary>
    private const string RestoreScript = """
        local result = {}
        for i = 1, 2 do
          local current = tonumber(redis.call('GET', KEYS[i]) or '0')
          if current < tonumber(ARGV[i]) then
            redis.call('SET', KEYS[i], ARGV[i], 'PX', ARGV[2 + i])
            current = tonumber(ARGV[i])
          end
          result[i] = current
        end
        return result
        """;

    /// <summary>
    /// How long this process trusts a lock it was told about before asking Redis again, so that an operator who lifts
    /// the lock (or raises the limit) is heard within seconds while a locked quota costs no Redis call per email.
    /// </summary>
    public static readonly TimeSpan LockRecheckInterval = TimeSpan.FromSeconds(5);

    private readonly EmailQuotaOptions _options = options.Value;

    // The lock as last seen by this process (UTC ticks; 0 = none), and until when that observation is trusted.
    private long _knownLockedUntil;
    private long _knownLockTrustedUntil;

    public bool Enabled => _options.Enabled;

    /// <summary>
    /// The lock's reset instant, when this process saw the lock (or reached a limit) less than
    /// <see cref="LockRecheckInterval"/> ago and it has not reset yet: normal-priority email can be deferred without
    /// asking Redis. Null when unknown; <see cref="TryTakeAsync"/> then asks.
    /// </summary>
    public DateTimeOffset? KnownLockedUntil
    {
        get
        {
            var now = timeProvider.GetUtcNow().UtcTicks;
            var lockedUntil = Interlocked.Read(ref _knownLockedUntil);
            return lockedUntil > now && Interlocked.Read(ref _knownLockTrustedUntil) > now
                ? new DateTimeOffset(lockedUntil, TimeSpan.Zero)
                : null;
        }
    }

    /// <summary>
    /// Takes one slot of today's and this month's quota. A <paramref name="bypass"/> (high and critical priority) is
    /// never refused and ignores the lock, but is counted. When a limit is reached, sets the lock until that window
    /// resets and refuses; while the lock holds, refuses without touching the counters. Always allowed, and nothing
    /// counted, when the quota is disabled.
    /// </summary>
    public async Task<EmailQuotaDecision> TryTakeAsync(bool bypass)
    {
        var now = timeProvider.GetUtcNow();
        var day = EmailQuotaCalendar.UtcDay(now);
        if (!_options.Enabled)
        {
            return new EmailQuotaDecision(EmailQuotaOutcome.Unlimited, day, 0, 0, null, []);
        }

        var dayReset = EmailQuotaCalendar.NextDay(now);
        var monthReset = EmailQuotaCalendar.NextMonth(now);
        var keys = new RedisKey[3 + AlertPercents.Count];
        keys[0] = RedisKeys.EmailQuotaDay(day);
        keys[1] = RedisKeys.EmailQuotaMonth(day);
        keys[2] = RedisKeys.EmailQuotaLock;
        var values = new RedisValue[11 + AlertPercents.Count];
        values[0] = _options.DailyLimit;
        values[1] = _options.MonthlyLimit;
        values[2] = bypass ? "1" : "0";
        values[3] = EmailQuotaCalendar.Format(now);
        values[4] = Milliseconds(dayReset + EmailQuotaCalendar.CounterGrace - now);
        values[5] = Milliseconds(monthReset + EmailQuotaCalendar.CounterGrace - now);
        values[6] = EmailQuotaCalendar.Format(dayReset);
        values[7] = Milliseconds(dayReset - now);
        values[8] = EmailQuotaCalendar.Format(monthReset);
        values[9] = Milliseconds(monthReset - now);
        values[10] = Milliseconds(dayReset + EmailQuotaCalendar.CounterGrace - now);
        for (var i = 0; i < AlertPercents.Count; i++)
        {
            keys[3 + i] = RedisKeys.EmailQuotaAlert(day, AlertPercents[i]);
            values[11 + i] = AlertThreshold(_options.DailyLimit, AlertPercents[i]);
        }

        var result = (RedisResult[])(await redis.ScriptEvaluateAsync(TakeScript, keys, values))!;
        var outcome = (int)result[0];
        var dayCount = (long)result[1];
        var monthCount = (long)result[2];
        if (outcome != Taken)
        {
            RememberLock(EmailQuotaCalendar.Parse((string)result[3]!), now);
        }
        switch (outcome)
        {
            case Taken:
                var crossed = new int[result.Length - 4];
                for (var i = 4; i < result.Length; i++)
                {
                    crossed[i - 4] = AlertPercents[(int)result[i] - 1];
                }
                return new EmailQuotaDecision(EmailQuotaOutcome.Taken, day, dayCount, monthCount, null, crossed);
            case Locked:
                return new EmailQuotaDecision(EmailQuotaOutcome.Locked, day, dayCount, monthCount, EmailQuotaCalendar.Parse((string)result[3]!), []);
            case DailyLimitReached:
                Log.LimitReached(logger, "daily", _options.DailyLimit, dayReset);
                return new EmailQuotaDecision(EmailQuotaOutcome.DailyLimitReached, day, dayCount, monthCount, dayReset, []);
            case MonthlyLimitReached:
                Log.LimitReached(logger, "monthly", _options.MonthlyLimit, monthReset);
                return new EmailQuotaDecision(EmailQuotaOutcome.MonthlyLimitReached, day, dayCount, monthCount, monthReset, []);
            default:
                throw new InvalidOperationException($"The email quota script returned an unknown outcome {outcome}.");
        }
    }

    /// <summary>
    /// Gives back the slot <paramref name="decision"/> took (the email was not sent after all), so the counters mean
    /// "sent". The slot goes back to the day and month it was taken in, even if the window turned meanwhile.
    /// </summary>
    public async Task RefundAsync(EmailQuotaDecision decision)
    {
        if (decision.Outcome != EmailQuotaOutcome.Taken)
        {
            return;
        }
        await redis.ScriptEvaluateAsync(RefundScript, [RedisKeys.EmailQuotaDay(decision.Day), RedisKeys.EmailQuotaMonth(decision.Day)]);
        Log.Refunded(logger, decision.Day);
    }

    /// <summary>
    /// Sets the quota lock until <paramref name="resetsAt"/> (e.g. the provider said its own quota is spent), unless a
    /// lock already reaches at least as far.
    /// </summary>
    public async Task LockUntilAsync(DateTimeOffset resetsAt)
    {
        var now = timeProvider.GetUtcNow();
        if (resetsAt <= now)
        {
            return;
        }
        var set = (int)await redis.ScriptEvaluateAsync(LockScript, [RedisKeys.EmailQuotaLock],
            [EmailQuotaCalendar.Format(resetsAt), Milliseconds(resetsAt - now)]);
        if (set == 1)
        {
            Log.Locked(logger, resetsAt);
        }
        RememberLock(resetsAt, now);
    }

    private void RememberLock(DateTimeOffset lockedUntil, DateTimeOffset now)
    {
        Interlocked.Exchange(ref _knownLockedUntil, lockedUntil.UtcTicks);
        Interlocked.Exchange(ref _knownLockTrustedUntil, (now + LockRecheckInterval).UtcTicks);
    }

    /// <summary>Today's and this month's counts, the limits, and the lock's reset instant while a lock holds. One round trip.</summary>
    public async Task<EmailQuotaUsage> ReadUsageAsync()
    {
        var now = timeProvider.GetUtcNow();
        var day = EmailQuotaCalendar.UtcDay(now);
        var values = await redis.StringGetAsync([RedisKeys.EmailQuotaDay(day), RedisKeys.EmailQuotaMonth(day), RedisKeys.EmailQuotaLock]);
        DateTimeOffset? lockedUntil = values[2].HasValue ? EmailQuotaCalendar.Parse(values[2]!) : null;
        return new EmailQuotaUsage(
            _options.Enabled,
            day,
            values[0].HasValue ? (long)values[0] : 0,
            _options.DailyLimit,
            values[1].HasValue ? (long)values[1] : 0,
            _options.MonthlyLimit,
            lockedUntil > now ? lockedUntil : null);
    }

    /// <summary>
    /// Raises the counters of <paramref name="day"/> and its month to at least the counts Postgres knows were sent (for
    /// the scheduler's reconciliation after Redis lost them); never lowers a counter. Returns the counts now stored.
    /// </summary>
    public async Task<(long DayCount, long MonthCount)> RestoreAsync(DateOnly day, long sentThatDay, long sentThatMonth)
    {
        var now = timeProvider.GetUtcNow();
        var dayStart = new DateTimeOffset(day.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero);
        var dayExpiry = EmailQuotaCalendar.NextDay(dayStart) + EmailQuotaCalendar.CounterGrace;
        var monthExpiry = EmailQuotaCalendar.NextMonth(dayStart) + EmailQuotaCalendar.CounterGrace;
        if (dayExpiry <= now)
        {
            // That day's counter would already have expired: nothing reads it any more.
            return (0, 0);
        }
        var result = (RedisResult[])(await redis.ScriptEvaluateAsync(RestoreScript,
            [RedisKeys.EmailQuotaDay(day), RedisKeys.EmailQuotaMonth(day)],
            [sentThatDay, sentThatMonth, Milliseconds(dayExpiry - now), Milliseconds(monthExpiry - now)]))!;
        Log.Restored(logger, day, (long)result[0], (long)result[1]);
        return ((long)result[0], (long)result[1]);
    }

    /// <summary>The day count at which <paramref name="percent"/>% of <paramref name="dailyLimit"/> is reached (at least 1).</summary>
    public static int AlertThreshold(int dailyLimit, int percent) => Math.Max(1, (int)Math.Ceiling(dailyLimit * (percent / 100.0)));

    private static long Milliseconds(TimeSpan span) => Math.Max(1, (long)Math.Ceiling(span.TotalMilliseconds));

    private static partial class Log
    {
        [LoggerMessage(EventId = 2101, Level = LogLevel.Warning, Message = "The {Window} email quota of {Limit} is reached; normal-priority email waits until {ResetsAt:O}")]
        public static partial void LimitReached(ILogger logger, string window, int limit, DateTimeOffset resetsAt);

        [LoggerMessage(EventId = 2102, Level = LogLevel.Warning, Message = "Email quota locked until {ResetsAt:O}")]
        public static partial void Locked(ILogger logger, DateTimeOffset resetsAt);

        [LoggerMessage(EventId = 2103, Level = LogLevel.Debug, Message = "Email quota slot of {Day} given back (the email was not sent)")]
        public static partial void Refunded(ILogger logger, DateOnly day);

        [LoggerMessage(EventId = 2104, Level = LogLevel.Information, Message = "Email quota counters of {Day} restored: {DayCount} that day, {MonthCount} that month")]
        public static partial void Restored(ILogger logger, DateOnly day, long dayCount, long monthCount);
    }
}

/// <summary>What <see cref="EmailQuota.TryTakeAsync"/> decided.</summary>
public enum EmailQuotaOutcome
{
    /// <summary>A slot was counted; give it back with <see cref="EmailQuota.RefundAsync"/> if the email is not sent.</summary>
    Taken,

    /// <summary>The quota is disabled: nothing counted, nothing limited.</summary>
    Unlimited,

    /// <summary>The quota lock holds (set by any worker, or for the provider's own quota): wait until it resets.</summary>
    Locked,

    /// <summary>Today's limit is reached; the lock is now set until the next UTC midnight.</summary>
    DailyLimitReached,

    /// <summary>This month's limit is reached; the lock is now set until the first of next month.</summary>
    MonthlyLimitReached,
}

/// <param name="Day">The UTC day the decision counted in.</param>
/// <param name="DayCount">The day's count after this decision (0 when locked: the counters were not read).</param>
/// <param name="ResetsAt">When refused: when the window reopens.</param>
/// <param name="CrossedAlertPercents">
/// The alert thresholds (<see cref="EmailQuota.AlertPercents"/>) this slot was the first to reach today, across all
/// workers: alert for each.
/// </param>
public sealed record EmailQuotaDecision(
    EmailQuotaOutcome Outcome,
    DateOnly Day,
    long DayCount,
    long MonthCount,
    DateTimeOffset? ResetsAt,
    IReadOnlyList<int> CrossedAlertPercents)
{
    public bool Allowed => Outcome is EmailQuotaOutcome.Taken or EmailQuotaOutcome.Unlimited;
}

/// <summary>The quota as the admin metrics show it.</summary>
/// <param name="LockedUntil">While the quota lock holds, when it lifts; otherwise null.</param>
public sealed record EmailQuotaUsage(
    bool Enabled,
    DateOnly Day,
    long DayCount,
    int DailyLimit,
    long MonthCount,
    int MonthlyLimit,
    DateTimeOffset? LockedUntil);
