using Quartz;

namespace Notifications.Domain.Scheduling;

/// <summary>
/// Where the <see cref="CronJobCatalog"/>'s jobs live: Quartz's clustered job store in the platform's database (its
/// tables are created by migration 0005). Every scheduler replica joins it to run the jobs, and the API joins it without
/// ever starting, only to write triggers and read what is executing — so all of them must configure it alike, here.
/// </summary>
public static class CronJobStore
{
    /// <summary>Quartz's scheduler name (<c>sched_name</c> in its tables), shared by every member of the cluster.</summary>
    public const string SchedulerName = "notifications";

    /// <summary>The Quartz job group the jobs are stored under.</summary>
    public const string JobGroup = "cron";

    /// <summary>Prefix of Quartz's tables.</summary>
    public const string TablePrefix = "qrtz_";

    /// <summary>The Quartz key a catalogue job is stored under: its name, in <see cref="JobGroup"/>.</summary>
    public static JobKey JobKey(string jobName) => new(jobName, JobGroup);

    /// <summary>
    /// Makes this Quartz scheduler a member of the cluster on <paramref name="connectionString"/>'s database: the shared
    /// scheduler name, a generated instance id, the Postgres store clustered through database row locks, System.Text.Json
    /// for job data, and the schema validated (never created) at start.
    /// </summary>
    public static IQuartzBuilder UseCronJobStore(this IQuartzBuilder quartz, string connectionString)
    {
        quartz.ConfigureScheduler(scheduler =>
        {
            scheduler.InstanceName = SchedulerName;
            scheduler.GenerateInstanceId = true;
        });
        quartz.UsePersistentStore(store =>
        {
            store.UsePostgres(connectionString);
            store.UseClustering(_ => { });
            store.UseSystemTextJsonSerializer();
            store.ConfigureStore(options =>
            {
                options.TablePrefix = TablePrefix;
                options.SchemaProvisioning = SchemaProvisioning.Validate;
            });
        });
        return quartz;
    }
}
