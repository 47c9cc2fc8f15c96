using Notifications.Domain.Digests;
using Notifications.Domain.Scheduling;

namespace Notifications.Scheduler;

/// <summary>
/// The scheduler's settings (section <c>Scheduler</c>), validated on start by <see cref="SchedulerOptionsValidator"/>:
/// when each job runs, and how much each run does.
/// </summary>
public sealed class SchedulerOptions
{
    public const string SectionName = "Scheduler";

    public CronSchedules Jobs { get; set; } = new();

    public DigestSettings Digests { get; set; } = new();

    public DeferredReleaseSettings DeferredRelease { get; set; } = new();

    public StuckJobSettings StuckJobs { get; set; } = new();

    public RetentionSettings Retention { get; set; } = new();

    public CronAlertSettings Alerts { get; set; } = new();
}

/// <summary>When a job fires: a Quartz cron expression (seconds first) read in an IANA time zone.</summary>
public sealed class CronSchedule
{
    /// <summary>e.g. <c>0 0 9 * * ?</c> (09:00 every day); see Quartz's cron syntax.</summary>
    public string Cron { get; set; } = "";

    /// <summary>The IANA zone the expression is read in. Default UTC.</summary>
    public string TimeZone { get; set; } = "UTC";
}

/// <summary>Each job's schedule (section <c>Scheduler:Jobs</c>, one sub-section per job).</summary>
public sealed class CronSchedules
{
    /// <summary><c>digest-dispatch</c>: every minute.</summary>
    public CronSchedule DigestDispatch { get; set; } = new() { Cron = "0 * * * * ?" };

    /// <summary><c>default-daily-digest</c>: 09:00 UTC.</summary>
    public CronSchedule DefaultDailyDigest { get; set; } = new() { Cron = "0 0 9 * * ?" };

    /// <summary><c>deferred-release</c>: every minute.</summary>
    public CronSchedule DeferredRelease { get; set; } = new() { Cron = "0 * * * * ?" };

    /// <summary><c>quota-reconcile</c>: 23:59 UTC, just before the daily quota window resets.</summary>
    public CronSchedule QuotaReconcile { get; set; } = new() { Cron = "0 59 23 * * ?" };

    /// <summary><c>stuck-job-recovery</c>: every 10 minutes.</summary>
    public CronSchedule StuckJobRecovery { get; set; } = new() { Cron = "0 0/10 * * * ?" };

    /// <summary><c>retention</c>: 03:30 UTC.</summary>
    public CronSchedule Retention { get; set; } = new() { Cron = "0 30 3 * * ?" };

    /// <summary>The configuration key of a catalogue job's schedule, e.g. <c>DigestDispatch</c> for <c>digest-dispatch</c>.</summary>
    public static string KeyOf(string jobName) => jobName switch
    {
        CronJobCatalog.DigestDispatch => nameof(DigestDispatch),
        CronJobCatalog.DefaultDailyDigest => nameof(DefaultDailyDigest),
        CronJobCatalog.DeferredRelease => nameof(DeferredRelease),
        CronJobCatalog.QuotaReconcile => nameof(QuotaReconcile),
        CronJobCatalog.StuckJobRecovery => nameof(StuckJobRecovery),
        CronJobCatalog.Retention => nameof(Retention),
        _ => throw new ArgumentOutOfRangeException(nameof(jobName), jobName, "Not a job of the cron job catalogue."),
    };

    public CronSchedule For(string jobName) => jobName switch
    {
        CronJobCatalog.DigestDispatch => DigestDispatch,
        CronJobCatalog.DefaultDailyDigest => DefaultDailyDigest,
        CronJobCatalog.DeferredRelease => DeferredRelease,
        CronJobCatalog.QuotaReconcile => QuotaReconcile,
        CronJobCatalog.StuckJobRecovery => StuckJobRecovery,
        CronJobCatalog.Retention => Retention,
        _ => throw new ArgumentOutOfRangeException(nameof(jobName), jobName, "Not a job of the cron job catalogue."),
    };
}

/// <summary>Section <c>Scheduler:Digests</c>.</summary>
public sealed class DigestSettings
{
    /// <summary>Schedules (or users, for the default digest) claimed and written per transaction. Default 500.</summary>
    public int BatchSize { get; set; } = 500;

    /// <summary>Batches one run works on at once, each in its own transaction and connection. Default 2.</summary>
    public int Parallelism { get; set; } = 2;

    /// <summary>How many items the default daily digest's email lists before "and N more". Default 20.</summary>
    public int DefaultMaxItems { get; set; } = DigestScheduleValidator.DefaultMaxItems;

    /// <summary>The default daily digest gathers the pending emails created this far back. Default 24 hours.</summary>
    public TimeSpan DefaultLookback { get; set; } = TimeSpan.FromHours(24);
}

/// <summary>Section <c>Scheduler:DeferredRelease</c>.</summary>
public sealed class DeferredReleaseSettings
{
    /// <summary>Jobs released per transaction. Default 500.</summary>
    public int BatchSize { get; set; } = 500;
}

/// <summary>Section <c>Scheduler:StuckJobs</c>.</summary>
public sealed class StuckJobSettings
{
    /// <summary>
    /// How long a job may sit in <c>processing</c> (a worker's lease), or in <c>queued</c>/<c>pending</c> with its stream
    /// entry handed out, before it counts as stuck. Longer than the worker's lease. Default 10 minutes.
    /// </summary>
    public TimeSpan Threshold { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>Recoveries of one job before it is dead-lettered instead. Default 3.</summary>
    public int MaxRecoveries { get; set; } = 3;

    /// <summary>Jobs recovered per transaction. Default 500.</summary>
    public int BatchSize { get; set; } = 500;
}

/// <summary>Section <c>Scheduler:Retention</c>: what is deleted once it is older than its age.</summary>
public sealed class RetentionSettings
{
    /// <summary>Rows deleted per statement. Default 5,000.</summary>
    public int BatchSize { get; set; } = 5000;

    /// <summary>Outbox rows, counted from when they were dispatched. Default 7 days.</summary>
    public TimeSpan DispatchedOutboxAge { get; set; } = TimeSpan.FromDays(7);

    /// <summary>Delivery logs. Default 30 days.</summary>
    public TimeSpan DeliveryLogAge { get; set; } = TimeSpan.FromDays(30);

    /// <summary>Finished cron runs (completed or failed). Default 90 days.</summary>
    public TimeSpan CronRunAge { get; set; } = TimeSpan.FromDays(90);
}

/// <summary>
/// Section <c>Scheduler:Alerts</c>: when a cron run alerts the operators (through the <c>Alerts</c> webhooks). A run
/// that fails always alerts.
/// </summary>
public sealed class CronAlertSettings
{
    /// <summary>Alert when more than this share of a run's items failed … Default 0.5.</summary>
    public double ErrorRateThreshold { get; set; } = 0.5;

    /// <summary>… provided the run found at least this many items. Default 3.</summary>
    public int ErrorRateMinimumItems { get; set; } = 3;

    /// <summary>Alert when at least this many items failed in one run. Default 5.</summary>
    public int FailedItemsThreshold { get; set; } = 5;

    /// <summary>Alert when a run met at least this many processing errors (a batch or a step that threw). Default 3.</summary>
    public int ProcessingErrorsThreshold { get; set; } = 3;

    /// <summary>
    /// After an alert about a cron job, the alerts of the same kind about that job (it failed; it had failures; runs were
    /// orphaned) within this time are logged but not posted, across every scheduler replica: a job failing every minute
    /// posts once an hour, not once a run. Zero posts every one. Default 1 hour.
    /// </summary>
    public TimeSpan RepeatCooldown { get; set; } = TimeSpan.FromHours(1);
}
