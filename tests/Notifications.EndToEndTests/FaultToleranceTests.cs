using System.Diagnostics;
using Notifications.EndToEndTests.Support;
using Notifications.Hosting.Processes;
using Notifications.Testing;
using Notifications.Testing.Fakes;
using StackExchange.Redis;

namespace Notifications.EndToEndTests;

/// <summary>
/// Faults lose nothing and send nothing twice (issues 4 and 5): Redis losing its streams mid-flow, and the worker
/// process dying mid-batch. Emails go to a fake Resend, which counts what it accepted per idempotency key (the job id).
/// </summary>
[Collection(FaultsAppHostCollection.Name)]
public sealed class FaultToleranceTests(FaultsAppHost faults) : IDisposable
{
    private const string StuckJobRecovery = "stuck-job-recovery";
    private const string Worker = "emailworker";

    // Linux signal numbers: pause and resume a process without it noticing.
    private const int SigStop = 19;
    private const int SigCont = 18;

    private readonly NotificationsApiClient _api = new(faults.AppHost);

    private static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    private FakeResendServer Resend => faults.Resend;

    public void Dispose() => _api.Dispose();

    [Fact]
    public async Task RedisFlushedWithEntriesUnread_StuckJobRecoveryRequeuesEveryJobOnce_AndEachNotificationIsDeliveredOnce()
    {
        const int count = 6;
        var type = $"e2e.flush.{Guid.NewGuid():N}";
        var producer = await _api.ProducerAsync();
        var admin = await _api.AdminAsync();
        var recipients = await _api.RegisterUsersAsync(producer, count);

        var workerProcessId = await CurrentWorkerProcessIdAsync();
        var sent = new List<SentNotification>();
        DateTimeOffset dispatchedAt;
        Assert.True(NativeMethods.SendSignal(workerProcessId, SigStop), "Could not pause the worker.");
        try
        {
            // A read that was already blocking when the worker stopped may still take entries until its block time ends.
            await Task.Delay(FaultsAppHost.ReadBlockTime * 4, Cancellation);
            foreach (var recipient in recipients)
            {
                sent.Add(await _api.SendAsync(producer, recipient, type, $"Flushed mid-flow {recipient.Id}"));
            }
            var jobIds = JobIds(sent);
            await Poll.UntilAsync(
                "the outbox relay has appended every job to its Redis stream",
                () => _api.QuerySqlAsync<long>("SELECT count(*) FROM outbox_messages WHERE job_id = ANY ($1) AND dispatched_at IS NULL", jobIds),
                undispatched => undispatched.Single() == 0);
            dispatchedAt = (await _api.QuerySqlAsync<DateTimeOffset>("SELECT max(dispatched_at) FROM outbox_messages WHERE job_id = ANY ($1)", jobIds)).Single();

            await FlushRedisAsync();
        }
        finally
        {
            NativeMethods.SendSignal(workerProcessId, SigCont);
        }

        // Only Postgres knows about the jobs now. Once they count as stuck, the recovery hands them to the workers again.
        var stuckFrom = dispatchedAt + FaultsAppHost.StuckJobThreshold + TimeSpan.FromSeconds(1);
        await Task.Delay(Max(stuckFrom - DateTimeOffset.UtcNow, TimeSpan.Zero), Cancellation);
        var triggeredAt = await _api.TriggerCronJobAsync(admin, StuckJobRecovery);
        await _api.WaitForCompletedRunAsync(admin, StuckJobRecovery, "after the trigger",
            run => run.GetProperty("startedAt").GetDateTimeOffset() >= triggeredAt);

        await _api.WaitForJobsOfTypeAsync(admin, type, 2 * count, "sent");
        var recoveries = await _api.QuerySqlAsync<int>("SELECT recovery_count FROM delivery_jobs WHERE id = ANY ($1)", JobIds(sent));
        Assert.Equal(Enumerable.Repeat(1, 2 * count), recoveries);
        foreach (var (recipient, notification) in recipients.Zip(sent))
        {
            var emailJob = notification.Job("email").Id;
            Assert.Equal(1, Resend.AcceptedCount(emailJob.ToString()));
            Assert.Single(Resend.Emails, email => email.Request.GetProperty("to")[0].GetString() == recipient.Email);
            await AssertSentOnceAsync(admin, emailJob);
            await AssertSentOnceAsync(admin, notification.Job("in_app").Id);
        }
    }

    [Fact]
    public async Task WorkerKilledMidBatch_IsRestartedByTheAppHost_AndResendAcceptsEveryEmailExactlyOnce()
    {
        const int count = 20;
        var type = $"e2e.kill.{Guid.NewGuid():N}";
        var producer = await _api.ProducerAsync();
        var admin = await _api.AdminAsync();
        // One email each: the per-user email rate limit (10 an hour) stays out of the way.
        var recipients = await _api.RegisterUsersAsync(producer, count);

        var workerProcessId = await CurrentWorkerProcessIdAsync();
        // Slow enough that the worker (5 attempts at once) is always in the middle of some when it dies.
        Resend.ResponseDelay = TimeSpan.FromSeconds(1);
        try
        {
            var sent = new List<SentNotification>();
            foreach (var recipient in recipients)
            {
                sent.Add(await _api.SendAsync(producer, recipient, type, $"Killed mid-batch {recipient.Id}", channels: ["email"]));
            }
            var keys = sent.Select(notification => notification.Job("email").Id.ToString()).ToHashSet();

            await Poll.UntilAsync(
                "Resend is answering some of the batch",
                () => Task.FromResult(RequestedKeys(keys).Count(key => Resend.AcceptedCount(key) == 0)),
                inFlight => inFlight > 0);
            using (var worker = Process.GetProcessById(workerProcessId))
            {
                worker.Kill();
            }
            var acceptedAtKill = keys.Count(key => Resend.AcceptedCount(key) > 0);

            Assert.True(acceptedAtKill < count, "The whole batch was sent before the worker was killed.");
            await Poll.UntilAsync(
                "the AppHost restarts the worker",
                async () => (await faults.AppHost.ReloadEndpointsAsync()).Resources[Worker].ProcessId,
                processId => processId is not null && processId != workerProcessId);
            using var restartedWorker = faults.AppHost.CreateHttpClient(Worker);
            await Poll.UntilAsync(
                "the restarted worker is healthy",
                async () => await IsHealthyAsync(restartedWorker),
                healthy => healthy);

            await _api.WaitForJobsOfTypeAsync(admin, type, count, "sent");
            Assert.All(keys, key => Assert.Equal(1, Resend.AcceptedCount(key)));
            // The attempts the kill interrupted were made again, with the same key.
            Assert.Contains(keys, key => Resend.Requests.Count(request => request.Header("Idempotency-Key") == key) >= 2);
            foreach (var notification in sent)
            {
                await AssertSentOnceAsync(admin, notification.Job("email").Id);
            }
        }
        finally
        {
            Resend.ResponseDelay = TimeSpan.Zero;
        }
    }

    private async Task<int> CurrentWorkerProcessIdAsync() =>
        (await faults.AppHost.ReloadEndpointsAsync()).Resources[Worker].ProcessId
        ?? throw new InvalidOperationException("The worker is not running.");

    private static async Task<bool> IsHealthyAsync(HttpClient service)
    {
        try
        {
            using var response = await service.GetAsync("/health", Cancellation);
            return response.IsSuccessStatusCode;
        }
        catch (HttpRequestException)
        {
            // Not listening yet.
            return false;
        }
    }

    private async Task FlushRedisAsync()
    {
        var options = ConfigurationOptions.Parse(faults.AppHost.GetConnectionString("redis"));
        options.AllowAdmin = true;
        using var redis = await ConnectionMultiplexer.ConnectAsync(options);
        await redis.GetServer(redis.GetEndPoints().Single()).FlushAllDatabasesAsync();
    }

    /// <summary>The job is sent, with exactly one successful delivery attempt recorded.</summary>
    private async Task AssertSentOnceAsync(HttpClient admin, Guid jobId)
    {
        var details = await _api.GetJobAsync(admin, jobId);
        Assert.Equal("sent", details.GetProperty("job").Str("status"));
        Assert.Single(details.GetProperty("deliveryLogs").EnumerateArray(), log => log.Str("outcome") == "sent");
    }

    private HashSet<string> RequestedKeys(HashSet<string> keys) =>
        [.. Resend.Requests.Select(request => request.Header("Idempotency-Key")).OfType<string>().Where(keys.Contains)];

    private static Guid[] JobIds(IEnumerable<SentNotification> sent) => [.. sent.SelectMany(notification => notification.Jobs).Select(job => job.Id)];

    private static TimeSpan Max(TimeSpan a, TimeSpan b) => a > b ? a : b;
}
