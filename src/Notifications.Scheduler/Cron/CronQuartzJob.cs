using Quartz;

namespace Notifications.Scheduler.Cron;

/// <summary>
/// The one Quartz job class: every catalogue job is stored under its own job key with this type, and a firing runs the
/// job its key names through <see cref="CronJobRunner"/>. Quartz never runs two firings of the same job key at once,
/// on any replica of the cluster.
/// </summary>
[DisallowConcurrentExecution]
internal sealed class CronQuartzJob(CronJobRunner runner) : IJob
{
    public async ValueTask Execute(IJobExecutionContext context, CancellationToken cancellationToken = default) =>
        await runner.RunAsync(context.JobDetail.Key.Name, cancellationToken);
}
