using Notifications.Domain.Scheduling;
using Quartz;

namespace Notifications.IntegrationTests.Api.CronJobs;

/// <summary>
/// A started Quartz node on the database's clustered store, standing in for a scheduler replica (this project cannot
/// host the scheduler service beside the API): it stores one catalogue job key with <see cref="GatedJob"/> and runs
/// whatever fires it, so a test sees the API's triggers executed and can hold a run open.
/// </summary>
internal sealed class QuartzTestNode : IAsyncDisposable
{
    private readonly IScheduler _scheduler;

    private QuartzTestNode(IScheduler scheduler) => _scheduler = scheduler;

    public static async Task<QuartzTestNode> StartAsync(string databaseConnectionString, string jobName)
    {
        var scheduler = await QuartzSchedulerBuilder.Create(quartz =>
        {
            quartz.UseCronJobStore(databaseConnectionString);
            quartz.ConfigureScheduler(options => options.IdleWaitTime = TimeSpan.FromSeconds(1));
            quartz.AddJob<GatedJob>(job => job.WithIdentity(CronJobStore.JobKey(jobName)).StoreDurably());
        }).BuildScheduler(TestContext.Current.CancellationToken);
        await scheduler.Start(TestContext.Current.CancellationToken);
        return new QuartzTestNode(scheduler);
    }

    /// <summary>Fires the job here, as a cron trigger of the node would.</summary>
    public ValueTask FireAsync(string jobName) =>
        _scheduler.TriggerJob(CronJobStore.JobKey(jobName), TestContext.Current.CancellationToken);

    public async ValueTask DisposeAsync()
    {
        GatedJob.Open();
        await _scheduler.Shutdown(waitForJobsToComplete: true, CancellationToken.None);
    }

    /// <summary>Counts its runs; while the gate is closed a run waits for it, so it shows as executing.</summary>
    [DisallowConcurrentExecution]
    internal sealed class GatedJob : IJob
    {
        private static TaskCompletionSource _gate = Opened();
        private static int _runs;
        private static int _started;

        public static int Runs => Volatile.Read(ref _runs);

        public static int Started => Volatile.Read(ref _started);

        public static void Close()
        {
            _gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            Interlocked.Exchange(ref _runs, 0);
            Interlocked.Exchange(ref _started, 0);
        }

        public static void Open() => _gate.TrySetResult();

        public async ValueTask Execute(IJobExecutionContext context, CancellationToken cancellationToken = default)
        {
            Interlocked.Increment(ref _started);
            await _gate.Task.WaitAsync(cancellationToken);
            Interlocked.Increment(ref _runs);
        }

        private static TaskCompletionSource Opened()
        {
            var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            gate.SetResult();
            return gate;
        }
    }
}
