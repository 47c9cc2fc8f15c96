using Microsoft.EntityFrameworkCore;
using Notifications.Domain.Model;
using Notifications.Domain.Scheduling;
using Microsoft.Extensions.DependencyInjection;
using Notifications.Scheduler.Cron;
using Quartz;

namespace Notifications.Scheduler.Tests;

/// <summary>
/// The scheduler service as it runs: Quartz clustered on the migrated database fires the jobs on their cron triggers, a
/// non-executing client's <c>TriggerJob</c> is run by a started replica, and two replicas never run a job twice at once.
/// </summary>
[Collection(SchedulerTestCollection.Name)]
public sealed class QuartzWiringTests(TestServers servers)
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);
    private static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    [Fact]
    public async Task CronTrigger_FiresTheJob_WhichRecordsItsRunAndSendsTheDueDigest()
    {
        var database = await TestDatabase.CreateMigratedDatabaseAsync(servers.Postgres);
        var data = new SchedulerTestData(database);
        var now = DateTimeOffset.UtcNow;
        var user = await data.UserAsync(now);
        await data.PendingDigestJobsAsync(user, now.AddHours(-1), count: 2);
        await data.ScheduleAsync(user, now.AddMinutes(-1));
        await using var scheduler = new SchedulerHostFactory(servers.Redis.ConnectionString, database, new Dictionary<string, string?>
        {
            [SchedulerHostFactory.CronKey(CronJobCatalog.DigestDispatch)] = SchedulerHostFactory.EverySecond,
        });

        scheduler.Start();

        await WaitUntilAsync(async () => (await data.DigestsOfAsync(user)).Count == 1, "the due digest to be sent");
        await WaitUntilAsync(async () => await CompletedRunsAsync(data, CronJobCatalog.DigestDispatch) > 0, "a completed digest-dispatch run");
        Assert.Equal(0, await CompletedRunsAsync(data, CronJobCatalog.Retention));
    }

    [Fact]
    public async Task TriggerJob_FromAClientThatNeverStarts_IsExecutedByTheStartedReplica()
    {
        var database = await TestDatabase.CreateMigratedDatabaseAsync(servers.Postgres);
        var data = new SchedulerTestData(database);
        await using var scheduler = new SchedulerHostFactory(servers.Redis.ConnectionString, database);
        scheduler.Start();
        var client = await NonExecutingClientAsync(database);
        try
        {
            await client.TriggerJob(CronJobStore.JobKey(CronJobCatalog.Retention), Cancellation);

            await WaitUntilAsync(async () => await CompletedRunsAsync(data, CronJobCatalog.Retention) == 1, "the triggered retention run");
            Assert.Equal(SchedulerStatus.Created, client.Status);
        }
        finally
        {
            await client.Shutdown(waitForJobsToComplete: false, Cancellation);
        }
    }

    [Fact]
    public async Task TwoReplicasOnOneDatabase_SendOneDigestPerSchedule_AndNeverRunTheJobTwiceAtOnce()
    {
        var database = await TestDatabase.CreateMigratedDatabaseAsync(servers.Postgres);
        var data = new SchedulerTestData(database);
        var now = DateTimeOffset.UtcNow;
        var users = new List<string>();
        for (var i = 0; i < 30; i++)
        {
            var user = await data.UserAsync(now);
            await data.PendingDigestJobsAsync(user, now.AddHours(-1), count: 2);
            await data.ScheduleAsync(user, now.AddSeconds(-i));
            users.Add(user);
        }
        var settings = new Dictionary<string, string?>
        {
            [SchedulerHostFactory.CronKey(CronJobCatalog.DigestDispatch)] = SchedulerHostFactory.EverySecond,
            ["Scheduler:Digests:BatchSize"] = "4",
        };
        await using var first = new SchedulerHostFactory(servers.Redis.ConnectionString, database, settings);
        await using var second = new SchedulerHostFactory(servers.Redis.ConnectionString, database, settings);

        first.Start();
        second.Start();
        await WaitUntilAsync(async () => await CompletedRunsAsync(data, CronJobCatalog.DigestDispatch) >= 6, "several digest-dispatch runs");

        foreach (var user in users)
        {
            Assert.Single(await data.DigestsOfAsync(user));
        }
        await using var db = data.Context();
        var runs = await db.CronJobExecutions.AsNoTracking()
            .Where(run => run.JobName == CronJobCatalog.DigestDispatch && run.Status == CronJobStatus.Completed)
            .OrderBy(run => run.StartedAt)
            .ToListAsync(Cancellation);
        Assert.Equal(30, runs.Sum(run => run.Results!.RootElement.GetProperty("completed").GetInt32()));
        foreach (var (earlier, later) in runs.Zip(runs.Skip(1)))
        {
            Assert.True(earlier.CompletedAt <= later.StartedAt, $"Runs {earlier.Id} and {later.Id} overlapped.");
        }
    }

    [Fact]
    public async Task StoppingWhileAJobRuns_AsksItToStopAndWaitsForIt_AndTheRunIsRecordedCancelled()
    {
        var database = await TestDatabase.CreateMigratedDatabaseAsync(servers.Postgres);
        var data = new SchedulerTestData(database);
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var scheduler = new SchedulerHostFactory(servers.Redis.ConnectionString, database, services: services =>
            services.AddKeyedScoped<ICronJob>(CronJobCatalog.Retention, (_, _) => new UntilCancelledJob(started)));
        scheduler.Start();
        var client = await NonExecutingClientAsync(database);
        await client.TriggerJob(CronJobStore.JobKey(CronJobCatalog.Retention), Cancellation);
        await client.Shutdown(waitForJobsToComplete: false, Cancellation);
        await started.Task.WaitAsync(Deadline, Cancellation);

        await scheduler.DisposeAsync();   // the host stops: Quartz shuts down, waiting for the run

        await using var db = data.Context();
        var run = await db.CronJobExecutions.AsNoTracking().SingleAsync(execution => execution.JobName == CronJobCatalog.Retention, Cancellation);
        Assert.Equal(CronJobStatus.Failed, run.Status);
        Assert.StartsWith("Cancelled", run.ErrorMessage);
        Assert.Equal(1, run.Results!.RootElement.GetProperty("found").GetInt32());
    }

    /// <summary>Counts one item found, then works until the scheduler asks it to stop.</summary>
    private sealed class UntilCancelledJob(TaskCompletionSource started) : ICronJob
    {
        public async Task RunAsync(CronRunTally tally, CancellationToken cancellationToken)
        {
            tally.Add(found: 1);
            started.TrySetResult();
            await Task.Delay(Timeout.InfiniteTimeSpan, cancellationToken);
        }
    }

    /// <summary>A scheduler on the same clustered store that is never started, as the API holds one: it only writes triggers.</summary>
    private static Task<IScheduler> NonExecutingClientAsync(string database) =>
        QuartzSchedulerBuilder.Create(quartz => quartz.UseCronJobStore(database)).BuildScheduler(Cancellation).AsTask();

    private static async Task<int> CompletedRunsAsync(SchedulerTestData data, string jobName)
    {
        await using var db = data.Context();
        return await db.CronJobExecutions.CountAsync(run => run.JobName == jobName && run.Status == CronJobStatus.Completed, Cancellation);
    }

    private static async Task WaitUntilAsync(Func<Task<bool>> condition, string what)
    {
        var deadline = DateTime.UtcNow + Deadline;
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"Gave up waiting for {what}.");
            }
            await Task.Delay(100, Cancellation);
        }
    }
}
