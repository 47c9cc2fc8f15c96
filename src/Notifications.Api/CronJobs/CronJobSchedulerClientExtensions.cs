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
        // Never started, so it never runs a job; one thread is what the pool needs to exist.
        builder.AddQuartz(quartz => quartz.UseCronJobStore(connectionString).UseDefaultThreadPool(1));
    }
}
