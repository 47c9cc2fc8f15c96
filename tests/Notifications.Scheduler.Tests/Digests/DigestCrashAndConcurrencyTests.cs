using Notifications.Domain.Model;
using Notifications.Domain.Scheduling;
using Npgsql;

namespace Notifications.Scheduler.Tests.Digests;

/// <summary>
/// What the digest guarantees rest on: a crash anywhere inside a batch's transaction leaves nothing half-written (the
/// schedule is still due, every item still pending), the rerun sends exactly one digest with every item, and runs side
/// by side (two scheduler replicas) never send a schedule's period twice.
/// </summary>
[Collection(SchedulerTestCollection.Name)]
public sealed class DigestCrashAndConcurrencyTests(TestServers servers)
{
    private static readonly DateTimeOffset Now = CronJobsHost.DefaultNow;
    private static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    [Fact]
    public async Task ConnectionKilledWhileTheDigestTransactionIsOpen_NothingIsWritten_AndTheRerunSendsOneDigestWithEveryItem()
    {
        // One worker, so exactly two attempts (the batch, then the schedule alone) wait on the held row.
        await using var host = await CronJobsHost.StartAsync(servers, new Dictionary<string, string?> { ["Scheduler:Digests:Parallelism"] = "1" });
        var user = await host.Data.UserAsync(Now);
        var pending = await host.Data.PendingDigestJobsAsync(user, Now.AddHours(-2), count: 3);
        var schedule = await host.Data.ScheduleAsync(user, Now.AddMinutes(-1));

        // Another session holds one of the pending jobs, so the run's write waits inside its transaction (schedule
        // claimed, statement half done) until its connection is killed — once for the batch, once for the retry alone.
        await using var blocker = new NpgsqlConnection(host.ConnectionString);
        await blocker.OpenAsync(Cancellation);
        await using var hold = await blocker.BeginTransactionAsync(Cancellation);
        await using (var lockJob = new NpgsqlCommand($"SELECT 1 FROM delivery_jobs WHERE id = '{pending[1]}' FOR UPDATE", blocker, hold))
        {
            await lockJob.ExecuteNonQueryAsync(Cancellation);
        }
        var run = host.RunAsync(CronJobCatalog.DigestDispatch);
        var killed = new List<int>();
        for (var kill = 0; kill < 2; kill++)
        {
            var backend = await WaitForBackendWaitingOnALockAsync(host, killed);
            await host.ScalarAsync<bool>("SELECT pg_terminate_backend(@pid)", ("pid", backend));
            killed.Add(backend);
        }
        var crashed = await run;

        Assert.Equal((1, 0, 1), (crashed.Counts.Found, crashed.Counts.Completed, crashed.Counts.Failed));
        Assert.Empty(await host.Data.DigestsOfAsync(user));
        Assert.All(await host.Data.GetJobsAsync(pending), job => Assert.Equal(DeliveryJobStatus.DigestPending, job.Status));
        Assert.Equal(schedule.NextDueAt, (await host.Data.GetScheduleAsync(schedule.Id)).NextDueAt);
        Assert.Equal(0L, await host.ScalarAsync<long>("SELECT count(*) FROM outbox_messages"));

        await hold.RollbackAsync(Cancellation);
        var rerun = await host.RunAsync(CronJobCatalog.DigestDispatch);

        Assert.Equal((1, 1), (rerun.Counts.Found, rerun.Counts.Completed));
        var digest = Assert.Single(await host.Data.DigestsOfAsync(user));
        Assert.All(await host.Data.GetJobsAsync(pending), job => Assert.Equal(digest.Id, job.DigestJobId));
        Assert.Single(await host.Data.OutboxOfAsync(digest.Id));
        Assert.True((await host.Data.GetScheduleAsync(schedule.Id)).NextDueAt > Now);
    }

    [Fact]
    public async Task FailureAfterTheDigestIsInserted_RollsEverythingBack_AndTheRerunSendsOneDigestWithEveryItem()
    {
        await using var host = await CronJobsHost.StartAsync(servers);
        var user = await host.Data.UserAsync(Now);
        var pending = await host.Data.PendingDigestJobsAsync(user, Now.AddHours(-2), count: 4);
        var schedule = await host.Data.ScheduleAsync(user, Now.AddMinutes(-1));
        await InjectOutboxFailureAsync(host, user);

        var crashed = await host.RunAsync(CronJobCatalog.DigestDispatch);

        Assert.Equal(CronJobStatus.Completed, crashed.Status);
        Assert.Equal((1, 0, 1), (crashed.Counts.Found, crashed.Counts.Completed, crashed.Counts.Failed));
        Assert.Contains("injected failure", crashed.ErrorMessage);
        Assert.Empty(await host.Data.DigestsOfAsync(user));
        Assert.All(await host.Data.GetJobsAsync(pending), job => Assert.Equal(DeliveryJobStatus.DigestPending, job.Status));
        Assert.Equal(schedule.NextDueAt, (await host.Data.GetScheduleAsync(schedule.Id)).NextDueAt);

        await host.ExecuteAsync("DROP TRIGGER tr_injected_failure ON outbox_messages");
        await host.RunAsync(CronJobCatalog.DigestDispatch);
        await host.RunAsync(CronJobCatalog.DigestDispatch);

        var digest = Assert.Single(await host.Data.DigestsOfAsync(user));
        Assert.All(await host.Data.GetJobsAsync(pending), job => Assert.Equal(digest.Id, job.DigestJobId));
    }

    [Fact]
    public async Task OneScheduleFailing_CostsOnlyThatSchedule_TheRestOfItsBatchIsSent()
    {
        // One worker, so exactly one batch meets the failure.
        await using var host = await CronJobsHost.StartAsync(servers, new Dictionary<string, string?> { ["Scheduler:Digests:Parallelism"] = "1" });
        var failing = await host.Data.UserAsync(Now);
        await host.Data.PendingDigestJobsAsync(failing, Now.AddHours(-1));
        await host.Data.ScheduleAsync(failing, Now.AddMinutes(-1));
        var others = new List<string>();
        for (var i = 0; i < 5; i++)
        {
            var user = await host.Data.UserAsync(Now);
            await host.Data.PendingDigestJobsAsync(user, Now.AddHours(-1), count: 2);
            await host.Data.ScheduleAsync(user, Now.AddMinutes(-1));
            others.Add(user);
        }
        await InjectOutboxFailureAsync(host, failing);

        var outcome = await host.RunAsync(CronJobCatalog.DigestDispatch);

        Assert.Equal((6, 5, 1, 1), (outcome.Counts.Found, outcome.Counts.Completed, outcome.Counts.Failed, outcome.Counts.Errors));
        Assert.Empty(await host.Data.DigestsOfAsync(failing));
        foreach (var user in others)
        {
            Assert.Single(await host.Data.DigestsOfAsync(user));
        }
    }

    [Fact]
    public async Task TwoSchedulerInstancesRunningAtOnce_SendEachSchedulesPeriodExactlyOnce()
    {
        var settings = new Dictionary<string, string?> { ["Scheduler:Digests:BatchSize"] = "3", ["Scheduler:Digests:Parallelism"] = "2" };
        await using var first = await CronJobsHost.StartAsync(servers, settings);
        await using var second = await CronJobsHost.StartAsync(servers, settings, connectionString: first.ConnectionString);
        var schedules = new List<DigestSchedule>();
        for (var i = 0; i < 40; i++)
        {
            var user = await first.Data.UserAsync(Now);
            await first.Data.PendingDigestJobsAsync(user, Now.AddHours(-1), count: 2);
            schedules.Add(await first.Data.ScheduleAsync(user, Now.AddMinutes(-1)));
        }

        var runs = await Task.WhenAll(first.RunJobOnlyAsync(CronJobCatalog.DigestDispatch), second.RunJobOnlyAsync(CronJobCatalog.DigestDispatch));

        Assert.Equal(40, runs.Sum(counts => counts.Completed));
        Assert.Equal(40L, await first.ScalarAsync<long>("SELECT count(*) FROM delivery_jobs WHERE kind = 'digest'"));
        Assert.Equal(40L, await first.ScalarAsync<long>("SELECT count(DISTINCT digest_period_key) FROM delivery_jobs WHERE kind = 'digest'"));
        Assert.Equal(80L, await first.ScalarAsync<long>("SELECT count(*) FROM delivery_jobs WHERE status = 'digested'"));
        Assert.Equal(40L, await first.ScalarAsync<long>("SELECT count(*) FROM outbox_messages"));
        foreach (var schedule in schedules)
        {
            Assert.Single(await first.Data.DigestsOfAsync(schedule.UserId));
        }
    }

    /// <summary>Makes inserting the outbox row of <paramref name="userId"/>'s digest fail: after the digest row is written.</summary>
    private static Task InjectOutboxFailureAsync(CronJobsHost host, string userId) => host.ExecuteAsync($$"""
        CREATE FUNCTION injected_failure() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION 'injected failure after the digest job was inserted';
        END;
        $$;
        CREATE TRIGGER tr_injected_failure BEFORE INSERT ON outbox_messages
            FOR EACH ROW WHEN (NEW.payload ->> 'user_id' = '{{userId}}') EXECUTE FUNCTION injected_failure();
        """);

    /// <summary>The backend (other than those already killed) that waits for a row lock.</summary>
    private static async Task<int> WaitForBackendWaitingOnALockAsync(CronJobsHost host, List<int> killed)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            await using var connection = new NpgsqlConnection(host.ConnectionString);
            await connection.OpenAsync(Cancellation);
            await using var command = new NpgsqlCommand("""
                SELECT pid FROM pg_stat_activity
                WHERE datname = current_database() AND wait_event_type = 'Lock' AND pid <> pg_backend_pid() AND NOT (pid = ANY (@killed))
                """, connection);
            command.Parameters.AddWithValue("killed", killed.ToArray());
            if (await command.ExecuteScalarAsync(Cancellation) is int pid)
            {
                return pid;
            }
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException("No backend of the digest run started waiting on the held job row.");
            }
            await Task.Delay(20, Cancellation);
        }
    }
}
