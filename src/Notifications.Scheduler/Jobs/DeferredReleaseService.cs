using Microsoft.Extensions.Options;
using Notifications.Domain.Redis;
using Notifications.Scheduler.Cron;
using Npgsql;
using NpgsqlTypes;
using StackExchange.Redis;

namespace Notifications.Scheduler.Jobs;

/// <summary>
/// <c>deferred-release</c>: moves <c>deferred</c> jobs whose <c>scheduled_for</c> has come back to <c>queued</c>, each
/// with an outbox row, highest priority first and then oldest first, in batches claimed <c>FOR UPDATE SKIP LOCKED</c>.
/// While the email quota lock (<see cref="RedisKeys.EmailQuotaLock"/>) exists, low and normal priority email stays
/// deferred: the worker would only defer it again. High and critical email bypass the quota and go anyway.
/// </summary>
internal sealed partial class DeferredReleaseService(
    NpgsqlDataSource dataSource,
    IDatabase redis,
    IOptions<SchedulerOptions> options,
    TimeProvider timeProvider,
    ILogger<DeferredReleaseService> logger) : ICronJob
{
    public async Task RunAsync(CronRunTally tally, CancellationToken cancellationToken)
    {
        var now = timeProvider.GetUtcNow();
        var quotaLocked = await IsQuotaLockedAsync(tally);
        var batchSize = options.Value.DeferredRelease.BatchSize;
        await ClaimedBatches.RunAsync<Guid>(
            (request, token) => ReleaseBatchAsync(request, now, quotaLocked, batchSize, tally, token),
            batchSize, parallelism: 1, tally, logger, cancellationToken);
    }

    /// <summary>Whether the quota lock exists. When Redis cannot say, quota-gated email is held back until it can.</summary>
    private async Task<bool> IsQuotaLockedAsync(CronRunTally tally)
    {
        try
        {
            var locked = await redis.KeyExistsAsync(RedisKeys.EmailQuotaLock);
            if (locked)
            {
                Log.HeldByQuotaLock(logger);
            }
            return locked;
        }
        catch (Exception exception) when (exception is RedisException or TimeoutException)
        {
            tally.AddError(exception);
            Log.QuotaLockUnknown(logger, exception);
            return true;
        }
    }

    private async Task<int> ReleaseBatchAsync(
        BatchRequest<Guid> request, DateTimeOffset now, bool quotaLocked, int batchSize, CronRunTally tally, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await using var claim = new NpgsqlCommand($"""
            SELECT {ClaimedJob.Columns}
            FROM delivery_jobs j
            WHERE j.status = 'deferred' AND j.scheduled_for <= @now
              AND NOT (@quota_locked AND j.channel = 'email' AND j.priority IN ('low', 'normal'))
              AND (@only IS NULL OR j.id = ANY (@only))
              AND NOT (j.id = ANY (@excluded))
            ORDER BY CASE j.priority WHEN 'critical' THEN 0 WHEN 'high' THEN 1 WHEN 'normal' THEN 2 ELSE 3 END, j.created_at, j.id
            LIMIT @batch_size
            FOR NO KEY UPDATE SKIP LOCKED
            """, connection, transaction);
        claim.Parameters.AddWithValue("now", now);
        claim.Parameters.AddWithValue("quota_locked", quotaLocked);
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
            Message = "Could not read the email quota lock from Redis; low and normal priority email stays deferred this run")]
        public static partial void QuotaLockUnknown(ILogger logger, Exception exception);
    }
}
