using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Notifications.Domain;
using Notifications.Domain.Persistence;
using Notifications.Domain.Scheduling;
using Notifications.Scheduler.Cron;
using Notifications.Scheduler.Digests;
using Notifications.Scheduler.Jobs;
using Notifications.Scheduler.Quota;
using Notifications.Scheduler.Retention;
using Quartz;

namespace Notifications.Scheduler.Extensions;

internal static class Extensions
{
    /// <summary>How often an idle replica looks for triggers written elsewhere (Quartz's idle wait; its default is 30 s).</summary>
    public static readonly TimeSpan TriggerPollInterval = TimeSpan.FromSeconds(2);

    public static void AddSchedulerServices(this IHostApplicationBuilder builder)
    {
        builder.AddNpgsqlDbContext<NotificationsDbContext>(ResourceNames.Database);
        builder.Services.AddSchemaVersionGuard();
        builder.AddRedisClient(ResourceNames.Redis);
        builder.AddCronJobs();
        builder.AddClusteredQuartz();
    }

    /// <summary>
    /// The jobs of the <see cref="CronJobCatalog"/> (each a keyed scoped <see cref="ICronJob"/>), the runner that records
    /// and alerts, the scheduler's options, and the quota counter check at start-up. Needs the database and Redis.
    /// </summary>
    public static void AddCronJobs(this IHostApplicationBuilder builder)
    {
        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<IValidateOptions<SchedulerOptions>, SchedulerOptionsValidator>();
        builder.Services.AddOptions<SchedulerOptions>().BindConfiguration(SchedulerOptions.SectionName).ValidateOnStart();
        builder.AddWebhookAlerts();
        builder.AddEmailQuota();

        builder.Services.AddSingleton<CronRunAlerts>();
        builder.Services.AddSingleton<CronJobRunner>();
        builder.Services.AddKeyedScoped<ICronJob, DigestDispatchService>(CronJobCatalog.DigestDispatch);
        builder.Services.AddKeyedScoped<ICronJob, DefaultDigestService>(CronJobCatalog.DefaultDailyDigest);
        builder.Services.AddKeyedScoped<ICronJob, DeferredReleaseService>(CronJobCatalog.DeferredRelease);
        builder.Services.AddScoped<QuotaReconcileService>();
        builder.Services.AddKeyedScoped<ICronJob>(CronJobCatalog.QuotaReconcile,
            (services, _) => services.GetRequiredService<QuotaReconcileService>());
        builder.Services.AddKeyedScoped<ICronJob, StuckJobRecoveryService>(CronJobCatalog.StuckJobRecovery);
        builder.Services.AddKeyedScoped<ICronJob, RetentionService>(CronJobCatalog.Retention);
        builder.Services.AddHostedService<QuotaRestoreAtStartup>();
    }

    /// <summary>
    /// A Quartz scheduler in the cluster of every replica sharing the database (<see cref="CronJobStore"/>): each
    /// catalogue job stored under its name with the cron trigger of
    /// <see cref="SchedulerOptions.Jobs"/>, a firing missed while no replica ran fired once as soon as one does, and
    /// stopping asks running jobs to stop and waits for them.
    /// </summary>
    public static void AddClusteredQuartz(this IHostApplicationBuilder builder)
    {
        var connectionString = builder.Configuration.GetConnectionString(ResourceNames.Database)
            ?? throw new InvalidOperationException(
                $"Quartz's job store needs the database: set 'ConnectionStrings:{ResourceNames.Database}', or start the system through Notifications.AppHost.");
        builder.AddQuartz(quartz =>
        {
            quartz.UseCronJobStore(connectionString);
            quartz.ConfigureScheduler(scheduler =>
            {
                // How soon an idle replica sees a trigger another process wrote (the API's manual trigger): it is not
                // signalled across processes, so it is found by polling.
                scheduler.IdleWaitTime = TriggerPollInterval;
                // On shutdown a running job is asked to stop (its batch in flight rolls back, the run is recorded as
                // cancelled) and waited for, rather than cut off by the host's shutdown timeout.
                scheduler.ShutdownJobInterruption = ShutdownJobInterruption.WhenWaitingForJobs;
            });
            foreach (var job in CronJobCatalog.All)
            {
                var key = CronJobStore.JobKey(job.Name);
                quartz.AddJob<CronQuartzJob>(configure => configure.WithIdentity(key).WithDescription(job.Description).StoreDurably());
                quartz.AddTrigger((services, trigger) =>
                {
                    // Reading the options validates them, so a bad expression stops start-up naming its setting.
                    var schedule = services.GetRequiredService<IOptions<SchedulerOptions>>().Value.Jobs.For(job.Name);
                    trigger.ForJob(key)
                        .WithIdentity(job.Name, CronJobStore.JobGroup)
                        .WithDescription($"{schedule.Cron} ({schedule.TimeZone})")
                        .WithCronSchedule(schedule.Cron, cron => cron
                            .InTimeZone(TimeZoneInfo.FindSystemTimeZoneById(schedule.TimeZone))
                            .WithMisfireInstruction(CronTriggerMisfireInstruction.FireAndProceed));
                });
            }
        });
        builder.AddQuartzHostedService(options => options.WaitForJobsToComplete = true);
    }
}
