namespace Notifications.Domain.Scheduling;

/// <summary>One of the scheduler's time-driven jobs: its stable name and what it does, for operators.</summary>
public sealed record CronJobDefinition(string Name, string Description);

/// <summary>
/// The scheduler's jobs. The scheduler registers and runs them; the API lists their runs and triggers them through
/// Quartz's store (<see cref="CronJobStore"/>; it never runs one itself), so both read the names from here. A job's name
/// is also its Quartz job name and its <c>cron_job_executions.job_name</c>.
/// </summary>
public static class CronJobCatalog
{
    public const string DigestDispatch = "digest-dispatch";
    public const string DefaultDailyDigest = "default-daily-digest";
    public const string DeferredRelease = "deferred-release";
    public const string QuotaReconcile = "quota-reconcile";
    public const string StuckJobRecovery = "stuck-job-recovery";
    public const string Retention = "retention";

    public static IReadOnlyList<CronJobDefinition> All { get; } =
    [
        new(DigestDispatch, "Sends each digest schedule that is due: folds the user's pending digest emails into one digest email."),
        new(DefaultDailyDigest, "Digest of the last 24 hours' pending emails for email-enabled users without a digest schedule of their own."),
        new(DeferredRelease, "Re-enqueues deferred jobs whose time has come, highest priority then oldest first."),
        new(QuotaReconcile, "Snapshots today's email quota counter to Postgres, and restores the counter if Redis lost it."),
        new(StuckJobRecovery, "Re-enqueues jobs stuck in queued, pending or processing; dead-letters a job after too many recoveries."),
        new(Retention, "Deletes dispatched outbox rows, expired idempotency keys, old delivery logs and old cron runs."),
    ];

    /// <summary>The job named <paramref name="name"/> (exact, case-sensitive), or null.</summary>
    public static CronJobDefinition? Find(string name) => All.FirstOrDefault(job => string.Equals(job.Name, name, StringComparison.Ordinal));
}
