using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Text.Json;
using Notifications.Domain.Model;
using Notifications.Domain.Persistence;
using Notifications.Domain.Scheduling;
using Npgsql;
using NpgsqlTypes;

namespace Notifications.Scheduler.Cron;

/// <summary>
/// Runs one job of the catalogue the same way whatever the job: records a <c>running</c> row in
/// <c>cron_job_executions</c>, runs the job's <see cref="ICronJob"/> in a DI scope of its own, records how it ended
/// (completed or failed, duration, counts, error) and alerts when the run calls for it.
/// </summary>
/// <remarks>
/// Quartz never runs two firings of one job at once anywhere in the cluster, so a row of the same job still
/// <c>running</c> when a run starts belongs to a run that died without recording its end (its process crashed or lost
/// the database): the new run marks it failed.
/// </remarks>
internal sealed partial class CronJobRunner(
    IServiceScopeFactory scopeFactory,
    NpgsqlDataSource dataSource,
    CronRunAlerts alerts,
    TimeProvider timeProvider,
    ILogger<CronJobRunner> logger)
{
    internal const string OrphanedMessage =
        "Orphaned: the run never recorded its end (its scheduler instance stopped or lost the database); marked failed by the next run.";

    internal const string CancelledMessage = "Cancelled: the scheduler stopped before the run finished.";

    private static readonly JsonSerializerOptions ResultsJson = new(JsonSerializerDefaults.Web);

    private static readonly Counter<long> Runs = SchedulerTelemetry.Meter.CreateCounter<long>(
        "notifications.scheduler.cron.runs", unit: "{run}", description: "Cron job runs, by job and status.");

    private static readonly Histogram<double> RunDuration = SchedulerTelemetry.Meter.CreateHistogram<double>(
        "notifications.scheduler.cron.run.duration", unit: "ms", description: "How long cron job runs take, by job.");

    public async Task<CronRunOutcome> RunAsync(string jobName, CancellationToken cancellationToken)
    {
        if (CronJobCatalog.Find(jobName) is null)
        {
            throw new ArgumentException($"'{jobName}' is not a job of the cron job catalogue.", nameof(jobName));
        }

        using var activity = SchedulerTelemetry.ActivitySource.StartActivity($"cron {jobName}");
        activity?.SetTag("notifications.cron.job", jobName);
        var executionId = Guid.CreateVersion7();
        var startedAt = timeProvider.GetUtcNow();
        var started = timeProvider.GetTimestamp();

        int orphaned;
        try
        {
            orphaned = await BeginAsync(executionId, jobName, startedAt, cancellationToken);
        }
        catch (Exception exception) when (exception is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            // Without its row the run would go unseen; most jobs could not work without the database anyway.
            Log.NotRecorded(logger, jobName, exception);
            activity?.SetStatus(ActivityStatusCode.Error, exception.Message);
            var unrecorded = new CronRunOutcome(null, jobName, CronJobStatus.Failed, startedAt, timeProvider.GetElapsedTime(started),
                CronRunCounts.None, $"The run could not be recorded, so it did not start: {exception.Message}");
            Count(unrecorded);
            await alerts.AlertIfNeededAsync(unrecorded, cancellationToken);
            return unrecorded;
        }
        activity?.SetTag("notifications.cron.execution_id", executionId);
        Log.Started(logger, jobName, executionId);
        if (orphaned > 0)
        {
            Log.OrphansMarked(logger, jobName, orphaned);
            await alerts.AlertOrphanedAsync(jobName, orphaned, executionId, cancellationToken);
        }

        var tally = new CronRunTally();
        Exception? failure = null;
        try
        {
            await using var scope = scopeFactory.CreateAsyncScope();
            await scope.ServiceProvider.GetRequiredKeyedService<ICronJob>(jobName).RunAsync(tally, cancellationToken);
        }
        catch (Exception exception)
        {
            failure = exception;
        }

        var cancelled = failure is OperationCanceledException && cancellationToken.IsCancellationRequested;
        var outcome = new CronRunOutcome(
            executionId,
            jobName,
            failure is null ? CronJobStatus.Completed : CronJobStatus.Failed,
            startedAt,
            timeProvider.GetElapsedTime(started),
            tally.Counts,
            cancelled ? CancelledMessage : failure?.Message ?? tally.LastError);

        // Recorded even while the host is stopping: a run left 'running' would only be found by the next one.
        await CompleteAsync(outcome, CancellationToken.None);
        Count(outcome);
        if (failure is null)
        {
            Log.Completed(logger, jobName, executionId, outcome.Duration.TotalMilliseconds, outcome.Counts.Found, outcome.Counts.Completed,
                outcome.Counts.Failed, outcome.Counts.Skipped, outcome.Counts.Errors);
        }
        else
        {
            activity?.SetStatus(ActivityStatusCode.Error, failure.Message);
            Log.Failed(logger, jobName, executionId, failure);
        }
        await alerts.AlertIfNeededAsync(outcome, cancelled ? CancellationToken.None : cancellationToken);
        return outcome;
    }

    /// <summary>Marks the job's orphaned runs failed and records this run as running, in one transaction.</summary>
    /// <returns>How many orphaned runs were marked.</returns>
    private async Task<int> BeginAsync(Guid executionId, string jobName, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await using var orphans = new NpgsqlCommand("""
            UPDATE cron_job_executions
            SET status = @failed, completed_at = @now, error_message = @message
            WHERE job_name = @job AND status = @running
            """, connection, transaction);
        orphans.Parameters.AddWithValue("failed", SnakeCaseEnum<CronJobStatus>.ToName(CronJobStatus.Failed));
        orphans.Parameters.AddWithValue("running", SnakeCaseEnum<CronJobStatus>.ToName(CronJobStatus.Running));
        orphans.Parameters.AddWithValue("now", now);
        orphans.Parameters.AddWithValue("message", OrphanedMessage);
        orphans.Parameters.AddWithValue("job", jobName);
        var orphaned = await orphans.ExecuteNonQueryAsync(cancellationToken);

        await using var insert = new NpgsqlCommand("""
            INSERT INTO cron_job_executions (id, job_name, started_at, status) VALUES (@id, @job, @now, @running)
            """, connection, transaction);
        insert.Parameters.AddWithValue("id", executionId);
        insert.Parameters.AddWithValue("job", jobName);
        insert.Parameters.AddWithValue("now", now);
        insert.Parameters.AddWithValue("running", SnakeCaseEnum<CronJobStatus>.ToName(CronJobStatus.Running));
        await insert.ExecuteNonQueryAsync(cancellationToken);

        await transaction.CommitAsync(cancellationToken);
        return orphaned;
    }

    private async Task CompleteAsync(CronRunOutcome outcome, CancellationToken cancellationToken)
    {
        try
        {
            await using var command = dataSource.CreateCommand("""
                UPDATE cron_job_executions
                SET status = @status, completed_at = @completed_at, duration_ms = @duration_ms, results = @results, error_message = @error
                WHERE id = @id
                """);
            command.Parameters.AddWithValue("status", SnakeCaseEnum<CronJobStatus>.ToName(outcome.Status));
            command.Parameters.AddWithValue("completed_at", outcome.StartedAt + outcome.Duration);
            command.Parameters.AddWithValue("duration_ms", (long)outcome.Duration.TotalMilliseconds);
            command.Parameters.AddWithValue("results", NpgsqlDbType.Jsonb, JsonSerializer.Serialize(outcome.Counts, ResultsJson));
            command.Parameters.AddWithValue("error", (object?)outcome.ErrorMessage ?? DBNull.Value);
            command.Parameters.AddWithValue("id", outcome.ExecutionId!.Value);
            await command.ExecuteNonQueryAsync(cancellationToken);
        }
        catch (Exception exception)
        {
            // The row stays 'running' until the job's next run marks it orphaned.
            Log.EndNotRecorded(logger, outcome.JobName, outcome.ExecutionId!.Value, exception);
        }
    }

    private static void Count(CronRunOutcome outcome)
    {
        var job = new KeyValuePair<string, object?>("notifications.cron.job", outcome.JobName);
        Runs.Add(1, job, new KeyValuePair<string, object?>("notifications.cron.status", SnakeCaseEnum<CronJobStatus>.ToName(outcome.Status)));
        RunDuration.Record(outcome.Duration.TotalMilliseconds, job);
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 6000, Level = LogLevel.Debug, Message = "Cron job {JobName} started (execution {ExecutionId})")]
        public static partial void Started(ILogger logger, string jobName, Guid executionId);

        [LoggerMessage(EventId = 6001, Level = LogLevel.Information,
            Message = "Cron job {JobName} completed in {DurationMs:F0} ms (execution {ExecutionId}): found {Found}, completed {Completed}, failed {Failed}, skipped {Skipped}, errors {Errors}")]
        public static partial void Completed(ILogger logger, string jobName, Guid executionId, double durationMs, int found, int completed, int failed, int skipped, int errors);

        [LoggerMessage(EventId = 6002, Level = LogLevel.Error, Message = "Cron job {JobName} failed (execution {ExecutionId})")]
        public static partial void Failed(ILogger logger, string jobName, Guid executionId, Exception exception);

        [LoggerMessage(EventId = 6003, Level = LogLevel.Warning, Message = "Cron job {JobName}: marked {Count} orphaned run(s) failed")]
        public static partial void OrphansMarked(ILogger logger, string jobName, int count);

        [LoggerMessage(EventId = 6004, Level = LogLevel.Error, Message = "Cron job {JobName} did not run: its start could not be recorded")]
        public static partial void NotRecorded(ILogger logger, string jobName, Exception exception);

        [LoggerMessage(EventId = 6005, Level = LogLevel.Error, Message = "Cron job {JobName}: the end of execution {ExecutionId} could not be recorded")]
        public static partial void EndNotRecorded(ILogger logger, string jobName, Guid executionId, Exception exception);
    }
}
