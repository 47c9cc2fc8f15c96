using Notifications.Domain.Redis;
using Notifications.Scheduler.Cron;
using Npgsql;
using StackExchange.Redis;

namespace Notifications.Scheduler.Quota;

/// <summary>Today's and this month's email quota counters after a reconcile or restore.</summary>
internal readonly record struct QuotaCounters(long Day, long Month);

/// <summary>
/// <c>quota-reconcile</c>: keeps Postgres's history of email quota use and Redis's counters in step. Redis holds the
/// live counters (<see cref="RedisKeys.EmailQuotaDay"/>, <see cref="RedisKeys.EmailQuotaMonth"/>) the worker counts
/// against; Postgres keeps a snapshot per UTC day (<c>email_usage_snapshots</c>) and a delivery log per email sent.
/// </summary>
/// <remarks>
/// A counter Redis lost (restarted without persistence, flushed) would let the worker send a whole quota again. A lost
/// day counter is restored to the larger of today's snapshot and the emails logged as sent today; a lost month counter
/// to the larger of this month's earlier snapshots plus today's count and the emails logged as sent this month. Each is
/// written only if still missing (<c>SET NX</c>) and expires at the end of its UTC day or month. The worker owns the
/// counting itself; this only reads and restores.
/// </remarks>
internal sealed partial class QuotaReconcileService(
    NpgsqlDataSource dataSource,
    IDatabase redis,
    TimeProvider timeProvider,
    ILogger<QuotaReconcileService> logger) : ICronJob
{
    /// <summary>Restores lost counters, then snapshots today's count into <c>email_usage_snapshots</c> (upserted by day).</summary>
    public async Task RunAsync(CronRunTally tally, CancellationToken cancellationToken)
    {
        var now = timeProvider.GetUtcNow();
        tally.Add(found: 2);
        var counters = await RestoreLostCountersAsync(now, cancellationToken);
        tally.Add(completed: 2);

        await using var snapshot = dataSource.CreateCommand("""
            INSERT INTO email_usage_snapshots (day, sent_count, snapshot_at) VALUES (@day, @sent_count, @now)
            ON CONFLICT (day) DO UPDATE SET sent_count = excluded.sent_count, snapshot_at = excluded.snapshot_at
            """);
        snapshot.Parameters.AddWithValue("day", DateOnly.FromDateTime(now.UtcDateTime));
        snapshot.Parameters.AddWithValue("sent_count", (int)Math.Min(counters.Day, int.MaxValue));
        snapshot.Parameters.AddWithValue("now", now);
        await snapshot.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>
    /// Restores whichever of today's and this month's counters Redis lost; on demand as well as in the nightly run
    /// (the scheduler calls it at start-up). Returns the counters as they stand afterwards.
    /// </summary>
    public async Task<QuotaCounters> RestoreLostCountersAsync(DateTimeOffset now, CancellationToken cancellationToken)
    {
        var today = DateOnly.FromDateTime(now.UtcDateTime);
        var monthStart = new DateOnly(today.Year, today.Month, 1);
        var dayKey = RedisKeys.EmailQuotaDay(today);
        var monthKey = RedisKeys.EmailQuotaMonth(today);

        var day = await redis.StringGetAsync(dayKey);
        long dayCount;
        if (day.IsNull)
        {
            var snapshot = await ScalarAsync(
                "SELECT coalesce(max(sent_count), 0)::bigint FROM email_usage_snapshots WHERE day = @day", cancellationToken, ("day", today));
            var logged = await CountSentAsync(today, today.AddDays(1), cancellationToken);
            dayCount = await RestoreAsync(dayKey, Math.Max(snapshot, logged), ToInstant(today.AddDays(1)) - now);
            if (dayCount > 0)
            {
                Log.DayCounterRestored(logger, today, dayCount, snapshot, logged);
            }
        }
        else
        {
            dayCount = (long)day;
        }

        var month = await redis.StringGetAsync(monthKey);
        long monthCount;
        if (month.IsNull)
        {
            var earlierDays = await ScalarAsync(
                "SELECT coalesce(sum(sent_count), 0)::bigint FROM email_usage_snapshots WHERE day >= @from AND day < @to",
                cancellationToken, ("from", monthStart), ("to", today));
            var logged = await CountSentAsync(monthStart, monthStart.AddMonths(1), cancellationToken);
            monthCount = await RestoreAsync(monthKey, Math.Max(earlierDays + dayCount, logged), ToInstant(monthStart.AddMonths(1)) - now);
            if (monthCount > 0)
            {
                Log.MonthCounterRestored(logger, monthStart, monthCount, earlierDays + dayCount, logged);
            }
        }
        else
        {
            monthCount = (long)month;
        }
        return new QuotaCounters(dayCount, monthCount);
    }

    /// <summary>
    /// Writes the counter unless the worker recreated it meanwhile (or there is nothing to count); returns the counter's
    /// value either way.
    /// </summary>
    private async Task<long> RestoreAsync(string key, long value, TimeSpan untilReset)
    {
        if (value == 0)
        {
            return 0;
        }
        var expiry = untilReset > TimeSpan.FromSeconds(1) ? untilReset : TimeSpan.FromSeconds(1);
        if (await redis.StringSetAsync(key, value, expiry, When.NotExists))
        {
            return value;
        }
        var current = await redis.StringGetAsync(key);
        Log.RecreatedMeanwhile(logger, key, (long)current);
        return (long)current;
    }

    private Task<long> CountSentAsync(DateOnly from, DateOnly to, CancellationToken cancellationToken) => ScalarAsync("""
        SELECT count(*) FROM delivery_logs
        WHERE channel = 'email' AND outcome = 'sent' AND created_at >= @from AND created_at < @to
        """, cancellationToken, ("from", ToInstant(from)), ("to", ToInstant(to)));

    private async Task<long> ScalarAsync(string sql, CancellationToken cancellationToken, params (string Name, object Value)[] parameters)
    {
        await using var command = dataSource.CreateCommand(sql);
        foreach (var (name, value) in parameters)
        {
            command.Parameters.AddWithValue(name, value);
        }
        return (long)(await command.ExecuteScalarAsync(cancellationToken))!;
    }

    private static DateTimeOffset ToInstant(DateOnly utcDay) => new(utcDay.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero);

    private static partial class Log
    {
        [LoggerMessage(EventId = 6050, Level = LogLevel.Warning,
            Message = "Redis had lost the email quota counter of {Day}; it stands at {Count} (snapshot {Snapshot}, sent per delivery logs {Logged})")]
        public static partial void DayCounterRestored(ILogger logger, DateOnly day, long count, long snapshot, long logged);

        [LoggerMessage(EventId = 6051, Level = LogLevel.Warning,
            Message = "Redis had lost the monthly email quota counter from {MonthStart}; it stands at {Count} (snapshots {Snapshots}, sent per delivery logs {Logged})")]
        public static partial void MonthCounterRestored(ILogger logger, DateOnly monthStart, long count, long snapshots, long logged);

        [LoggerMessage(EventId = 6052, Level = LogLevel.Warning, Message = "The quota counter {Key} was recreated before it could be restored; it stands at {Count}")]
        public static partial void RecreatedMeanwhile(ILogger logger, string key, long count);
    }
}
