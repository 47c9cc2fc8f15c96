using Microsoft.Extensions.Options;
using Notifications.Scheduler.Cron;
using Npgsql;

namespace Notifications.Scheduler.Retention;

/// <summary>
/// <c>retention</c>: deletes what is past its age (<see cref="RetentionSettings"/>) — outbox rows dispatched more than
/// 7 days ago, expired idempotency keys, delivery logs older than 30 days and finished cron runs older than 90 days —
/// <see cref="RetentionSettings.BatchSize"/> rows per statement, so no statement holds locks or bloats WAL for long.
/// A table that fails is counted as an error and the others are still purged.
/// </summary>
internal sealed partial class RetentionService(
    NpgsqlDataSource dataSource,
    IOptions<SchedulerOptions> options,
    TimeProvider timeProvider,
    ILogger<RetentionService> logger) : ICronJob
{
    public async Task RunAsync(CronRunTally tally, CancellationToken cancellationToken)
    {
        var settings = options.Value.Retention;
        var now = timeProvider.GetUtcNow();
        Purge[] purges =
        [
            new("dispatched outbox rows", now - settings.DispatchedOutboxAge, """
                DELETE FROM outbox_messages WHERE id IN (
                    SELECT id FROM outbox_messages WHERE dispatched_at < @cutoff LIMIT @batch_size)
                """),
            new("expired idempotency keys", now, """
                DELETE FROM idempotency_keys WHERE (scope, key) IN (
                    SELECT scope, key FROM idempotency_keys WHERE expires_at < @cutoff LIMIT @batch_size)
                """),
            new("delivery logs", now - settings.DeliveryLogAge, """
                DELETE FROM delivery_logs WHERE id IN (
                    SELECT id FROM delivery_logs WHERE created_at < @cutoff LIMIT @batch_size)
                """),
            new("finished cron runs", now - settings.CronRunAge, """
                DELETE FROM cron_job_executions WHERE id IN (
                    SELECT id FROM cron_job_executions WHERE status <> 'running' AND completed_at < @cutoff LIMIT @batch_size)
                """),
        ];
        foreach (var purge in purges)
        {
            try
            {
                var deleted = await PurgeAsync(purge, settings.BatchSize, tally, cancellationToken);
                Log.Purged(logger, deleted, purge.What, purge.Cutoff);
            }
            catch (Exception exception) when (exception is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                tally.AddError(exception);
                Log.PurgeFailed(logger, purge.What, exception);
            }
        }
    }

    private sealed record Purge(string What, DateTimeOffset Cutoff, string DeleteBatchSql);

    private async Task<long> PurgeAsync(Purge purge, int batchSize, CronRunTally tally, CancellationToken cancellationToken)
    {
        long total = 0;
        while (true)
        {
            await using var command = dataSource.CreateCommand(purge.DeleteBatchSql);
            command.Parameters.AddWithValue("cutoff", purge.Cutoff);
            command.Parameters.AddWithValue("batch_size", batchSize);
            var deleted = await command.ExecuteNonQueryAsync(cancellationToken);
            tally.Add(found: deleted, completed: deleted);
            total += deleted;
            if (deleted < batchSize)
            {
                return total;
            }
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 6060, Level = LogLevel.Information, Message = "Retention deleted {Count} {What} from before {Cutoff:O}")]
        public static partial void Purged(ILogger logger, long count, string what, DateTimeOffset cutoff);

        [LoggerMessage(EventId = 6061, Level = LogLevel.Error, Message = "Retention could not delete {What}; the other tables were still purged")]
        public static partial void PurgeFailed(ILogger logger, string what, Exception exception);
    }
}
