using Microsoft.Extensions.Options;
using Notifications.Domain.Quota;
using Notifications.Domain.Redis;
using Notifications.Scheduler.Cron;
using Npgsql;
using NpgsqlTypes;
using StackExchange.Redis;

namespace Notifications.Scheduler.Jobs;

/// <summary>
/// <c>deferred-release</c>: moves <c>deferred</c> jobs whose <c>scheduled_for</c> has come back to <c>queued</c>, each
/// with an outbox row, highest priority first and then oldest first, in batches claimed <c>FOR UPDATE SKIP LOCKED</c>.
/// Low and normal priority email counts against the quota, so at most what the quota still allows of it is released:
/// none while the quota lock (<see cref="RedisKeys.EmailQuotaLock"/>) exists, else today's and this month's remaining
/// slots less the quota-gated email already on its way to the workers. Released beyond that, the worker would only
/// defer it again (a claim, an outcome and a log row each: a backlog of 100,000 deferred emails would cost 100,000 of
/// them every time the window resets). Other channels, and high and critical email (which bypass the quota), all go.
/// </summary>
internal sealed partial class DeferredReleaseService(
    NpgsqlDataSource dataSource,
    EmailQuota quota,
    IOptions<SchedulerOptions> options,
    TimeProvider timeProvider,
    ILogger<DeferredReleaseService> logger) : ICronJob
{
    // The quota-gated email: what the worker counts against the quota and defers once it is spent.
    private const string QuotaGated = "j.channel = 'email' AND j.priority IN ('low', 'normal')";

    public async Task RunAsync(CronRunTally tally, CancellationToken cancellationToken)
    {
        var now = timeProvider.GetUtcNow();
        var batchSize = options.Value.DeferredRelease.BatchSize;
        await ClaimedBatches.RunAsync<Guid>(
            (request, token) => ReleaseBatchAsync(request, now, quotaGated: false, batchSize, tally, token),
            batchSize, parallelism: 1, tally, logger, cancellationToken);

        var allowance = await QuotaAllowanceAsync(tally, cancellationToken);
        await ClaimedBatches.RunAsync<Guid>(
            async (request, token) =>
            {
                var released = await ReleaseBatchAsync(request, now, quotaGated: true, (int)Math.Min(batchSize, allowance), tally, token);
                allowance -= released;
                return released;
            },
            batchSize, parallelism: 1, tally, logger, cancellationToken);
    }

    /// <summary>
    /// How much quota-gated email may go back to the workers now. Nothing while the lock holds, and nothing when Redis
    /// cannot say: it is held back until it can.
    /// </summary>
    private async Task<long> QuotaAllowanceAsync(CronRunTally tally, CancellationToken cancellationToken)
    {
        EmailQuotaUsage usage;
        try
        {
            usage = await quota.ReadUsageAsync();
        }
        catch (Exception exception) when (exception is RedisException or TimeoutException)
        {
            tally.AddError(exception);
            Log.QuotaUnknown(logger, exception);
            return 0;
        }
        if (!usage.Enabled)
        {
            return long.MaxValue;
        }
        if (usage.LockedUntil is not null)
        {
            Log.HeldByQuotaLock(logger);
            return 0;
        }

        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var inFlight = new NpgsqlCommand(
            $"SELECT count(*) FROM delivery_jobs j WHERE j.status IN ('pending', 'queued', 'processing') AND {QuotaGated}", connection);
        var onItsWay = (long)(await inFlight.ExecuteScalarAsync(cancellationToken))!;
        var remaining = Math.Min(usage.DailyLimit - usage.DayCount, usage.MonthlyLimit - usage.MonthCount) - onItsWay;
        if (remaining <= 0)
        {
            Log.QuotaAllowsNone(logger, usage.DayCount, usage.DailyLimit, usage.MonthCount, usage.MonthlyLimit, onItsWay);
        }
        return Math.Max(remaining, 0);
    }

    private async Task<int> ReleaseBatchAsync(
        BatchRequest<Guid> request, DateTimeOffset now, bool quotaGated, int batchSize, CronRunTally tally, CancellationToken cancellationToken)
    {
        if (batchSize == 0)
        {
            return 0;
        }
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await using var claim = new NpgsqlCommand($"""
            SELECT {ClaimedJob.Columns}
            FROM delivery_jobs j
            WHERE j.status = 'deferred' AND j.scheduled_for <= @now
              AND ({QuotaGated}) = @quota_gated
              AND (@only IS NULL OR j.id = ANY (@only))
              AND NOT (j.id = ANY (@excluded))
            ORDER BY CASE j.priority WHEN 'critical' THEN 0 WHEN 'high' THEN 1 WHEN 'normal' THEN 2 ELSE 3 END, j.created_at, j.id
            LIMIT @batch_size
            FOR NO KEY UPDATE SKIP LOCKED
            """, connection, transaction);
        claim.Parameters.AddWithValue("now", now);
        claim.Parameters.AddWithValue("quota_gated", quotaGated);
        request.AddParameters(claim, NpgsqlDbType.Uuid);
        claim.Parameters.AddWithValue("batch_size", batchSize);
        var jobs = await ClaimedJob.ReadAsync(claim, cancellationToken);
        request.Claimed.AddRange(jobs.Select(job => job.Id));

        await JobRequeue.RequeueAsync(connection, transaction, jobs, countRecovery: false, now, cancellationToken);
        await transaction.CommitAsync(cancellationToken);

        tally.Add(completed: jobs.Count);
        return jobs.Count;
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 6030, Level = LogLevel.Information,
            Message = "The email quota lock is set: low and normal priority email stays deferred until the quota window resets")]
        public static partial void HeldByQuotaLock(ILogger logger);

        [LoggerMessage(EventId = 6031, Level = LogLevel.Warning,
            Message = "Could not read the email quota from Redis; low and normal priority email stays deferred this run")]
        public static partial void QuotaUnknown(ILogger logger, Exception exception);

        [LoggerMessage(EventId = 6032, Level = LogLevel.Information,
            Message = "The email quota has no slot left for deferred low and normal priority email ({DayCount} of {DailyLimit} today, {MonthCount} of {MonthlyLimit} this month, {OnItsWay} on its way to the workers); it stays deferred")]
        public static partial void QuotaAllowsNone(ILogger logger, long dayCount, int dailyLimit, long monthCount, int monthlyLimit, long onItsWay);
    }
}
