using Notifications.Domain;
using Notifications.Domain.Scheduling;
using Quartz;

namespace Notifications.Api.CronJobs;

internal static class CronJobSchedulerClientExtensions
{
    /// <summary>
    /// A Quartz scheduler on the scheduler service's clustered store (same scheduler name, tables and database) that
    /// the API never starts: it only writes triggers (<c>TriggerJob</c>) and reads what is executing, and the started
    /// scheduler replicas run the jobs. Built on first use, so the API starts without waiting for Quartz.
    /// </summary>
    public static void AddCronJobSchedulerClient(this IHostApplicationBuilder builder)
    {
        var connectionString = builder.Configuration.GetConnectionString(ResourceNames.Database)
            ?? throw new InvalidOperationException(
                $"The cron job scheduler client needs the database: set 'ConnectionStrings:{ResourceNames.Database}', or start the system through Notifications.AppHost.");
        builder.AddQuartz(quartz =>
        {
            quartz.ConfigureScheduler(scheduler =>
            {
                scheduler.InstanceName = CronJobCatalog.QuartzSchedulerName;
                scheduler.GenerateInstanceId = true;
            });
            // Never started, so it never runs a job; one thread is what the pool needs to exist.
            quartz.UseDefaultThreadPool(1);
            quartz.UsePersistentStore(store =>
            {
                store.UsePostgres(connectionString);
                // Clustered like the replicas, so its writes take the same database row locks.
                store.UseClustering(_ => { });
                store.UseSystemTextJsonSerializer();
                store.ConfigureStore(options =>
                {
                    options.TablePrefix = CronJobCatalog.QuartzTablePrefix;
                    options.SchemaProvisioning = SchemaProvisioning.Validate;
                });
            });
        });
    }
}
