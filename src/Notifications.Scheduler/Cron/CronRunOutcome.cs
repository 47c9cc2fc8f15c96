using Notifications.Domain.Model;

namespace Notifications.Scheduler.Cron;

/// <summary>How one run of a job ended, as recorded in its <c>cron_job_executions</c> row.</summary>
/// <param name="ExecutionId">The row's id; null when the database could not be reached to record the run at all.</param>
/// <param name="ErrorMessage">Why the run failed, or the last processing error of a run that completed.</param>
public sealed record CronRunOutcome(
    Guid? ExecutionId,
    string JobName,
    CronJobStatus Status,
    DateTimeOffset StartedAt,
    TimeSpan Duration,
    CronRunCounts Counts,
    string? ErrorMessage);
