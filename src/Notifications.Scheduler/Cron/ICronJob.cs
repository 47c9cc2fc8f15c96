namespace Notifications.Scheduler.Cron;

/// <summary>
/// The work of one scheduled job, registered as a keyed scoped service under its catalogue name and run by
/// <see cref="CronJobRunner"/> (which records and alerts), one DI scope per run. Testable without Quartz.
/// </summary>
public interface ICronJob
{
    /// <summary>
    /// Does one run's work, counting it on <paramref name="tally"/>. Throws when the run as a whole failed; an item or
    /// batch that fails while the rest can go on is counted instead.
    /// </summary>
    Task RunAsync(CronRunTally tally, CancellationToken cancellationToken);
}
