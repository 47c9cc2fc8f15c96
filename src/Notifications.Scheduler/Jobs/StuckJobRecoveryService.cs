using System.Globalization;
using Microsoft.Extensions.Options;
using Notifications.Domain.Model;
using Notifications.Domain.Persistence;
using Notifications.Scheduler.Cron;
using Npgsql;
using NpgsqlTypes;

namespace Notifications.Scheduler.Jobs;

/// <summary>
/// <c>stuck-job-recovery</c>: finds jobs nothing will move any more and hands them to the workers again, so losing Redis
/// (its streams flushed mid-flow) or a worker loses no notification. Stuck means, for longer than
/// <see cref="StuckJobSettings.Threshold"/>:
/// <list type="bullet">
/// <item><c>processing</c> without an update: the worker holding its lease died;</item>
/// <item><c>queued</c> or <c>pending</c> (a retry) whose outbox rows were all handed to the stream that long ago or
/// more: the stream entry was lost. One with an undispatched outbox row is only waiting for Redis and is left alone.</item>
/// </list>
/// A recovered job goes back to <c>queued</c> with a new outbox row and one more <c>recovery_count</c>; a job already
/// recovered <see cref="StuckJobSettings.MaxRecoveries"/> times is dead-lettered instead (<c>failed</c>, a transient
/// dead letter upserted on its job id).
/// </summary>
internal sealed class StuckJobRecoveryService(
    NpgsqlDataSource dataSource,
    IOptions<SchedulerOptions> options,
    TimeProvider timeProvider,
    ILogger<StuckJobRecoveryService> logger) : ICronJob
{
    public async Task RunAsync(CronRunTally tally, CancellationToken cancellationToken)
    {
        var settings = options.Value.StuckJobs;
        var now = timeProvider.GetUtcNow();
        await ClaimedBatches.RunAsync<Guid>(
            (request, token) => RecoverBatchAsync(request, now, settings, tally, token),
            settings.BatchSize, parallelism: 1, tally, logger, cancellationToken);
    }

    private async Task<int> RecoverBatchAsync(
        BatchRequest<Guid> request, DateTimeOffset now, StuckJobSettings settings, CronRunTally tally, CancellationToken cancellationToken)
    {
        var stuckBefore = now - settings.Threshold;
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await using var claim = new NpgsqlCommand($"""
            SELECT {ClaimedJob.Columns}
            FROM delivery_jobs j
            WHERE j.updated_at < @stuck_before
              AND (j.status = 'processing'
                   OR (j.status IN ('queued', 'pending')
                       AND NOT EXISTS (
                           SELECT 1 FROM outbox_messages o
                           WHERE o.job_id = j.id AND (o.dispatched_at IS NULL OR o.dispatched_at >= @stuck_before))))
              AND (@only IS NULL OR j.id = ANY (@only))
              AND NOT (j.id = ANY (@excluded))
            ORDER BY j.updated_at, j.id
            LIMIT @batch_size
            FOR NO KEY UPDATE SKIP LOCKED
            """, connection, transaction);
        claim.Parameters.AddWithValue("stuck_before", stuckBefore);
        claim.Parameters.AddWithValue("batch_size", settings.BatchSize);
        request.AddParameters(claim, NpgsqlDbType.Uuid);
        var jobs = await ClaimedJob.ReadAsync(claim, cancellationToken);
        request.Claimed.AddRange(jobs.Select(job => job.Id));

        var recovered = jobs.Where(job => job.RecoveryCount < settings.MaxRecoveries).ToList();
        var exhausted = jobs.Where(job => job.RecoveryCount >= settings.MaxRecoveries).ToList();
        await JobRequeue.RequeueAsync(connection, transaction, recovered, countRecovery: true, now, cancellationToken);
        await DeadLetterAsync(connection, transaction, exhausted, settings.Threshold, now, cancellationToken);
        await transaction.CommitAsync(cancellationToken);

        tally.Add(completed: recovered.Count, failed: exhausted.Count);
        return jobs.Count;
    }

    private static async Task DeadLetterAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, List<ClaimedJob> jobs, TimeSpan threshold, DateTimeOffset now,
        CancellationToken cancellationToken)
    {
        if (jobs.Count == 0)
        {
            return;
        }
        await using var command = new NpgsqlCommand("""
            WITH failed AS (
                UPDATE delivery_jobs j
                SET status = 'failed', last_error = d.message, updated_at = @now
                FROM unnest(@ids, @messages) AS d(id, message)
                WHERE j.id = d.id
                RETURNING j.id, j.channel, d.message
            )
            INSERT INTO dead_letters (id, job_id, channel, error_type, http_status_code, provider_response, error_message,
                                      attempt_history, created_at, updated_at, requeued_at, requeue_count)
            SELECT n.dead_letter_id, f.id, f.channel, 'transient', NULL, NULL, f.message,
                   coalesce((SELECT jsonb_agg(jsonb_build_object(
                                 'attempt', dl.attempt, 'at', dl.created_at, 'outcome', dl.outcome,
                                 'httpStatusCode', dl.http_status_code, 'error', dl.error) ORDER BY dl.attempt, dl.created_at)
                             FROM delivery_logs dl WHERE dl.job_id = f.id), '[]'::jsonb),
                   @now, @now, NULL, 0
            FROM failed f
            JOIN unnest(@ids, @dead_letter_ids) AS n(job_id, dead_letter_id) ON n.job_id = f.id
            ON CONFLICT (job_id) DO UPDATE SET
                error_type = excluded.error_type, http_status_code = NULL, provider_response = NULL,
                error_message = excluded.error_message, attempt_history = excluded.attempt_history,
                updated_at = excluded.updated_at, requeued_at = NULL
            """, connection, transaction);
        command.Parameters.AddWithValue("now", now);
        command.Parameters.AddWithValue("ids", jobs.Select(job => job.Id).ToArray());
        command.Parameters.AddWithValue("messages", jobs.Select(job => StuckMessage(job, threshold)).ToArray());
        command.Parameters.AddWithValue("dead_letter_ids", jobs.Select(_ => Guid.CreateVersion7()).ToArray());
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    internal static string StuckMessage(ClaimedJob job, TimeSpan threshold) => string.Create(CultureInfo.InvariantCulture,
        $"stuck in {SnakeCaseEnum<DeliveryJobStatus>.ToName(job.Status)} since {job.UpdatedAt.UtcDateTime:O} (no progress for more than {threshold:c}) " +
        $"after {job.RecoveryCount} recoveries; dead-lettered by stuck-job recovery");
}
