using System.Text.Json;
using Notifications.Domain.Model;
using Notifications.Domain.Scheduling;

namespace Notifications.Scheduler.Tests.Retention;

/// <summary><c>retention</c>: deletes only what is past its age, however many statements that takes.</summary>
[Collection(SchedulerTestCollection.Name)]
public sealed class RetentionTests(TestServers servers)
{
    private static readonly DateTimeOffset Now = CronJobsHost.DefaultNow;

    [Fact]
    public async Task OldRowsAreDeletedInBatches_RecentAndUnfinishedOnesStay()
    {
        await using var host = await CronJobsHost.StartAsync(servers, new Dictionary<string, string?> { ["Scheduler:Retention:BatchSize"] = "2" });
        var user = await host.Data.UserAsync(Now);
        var job = await host.Data.JobAsync(user, DeliveryJobStatus.Sent, Now.AddDays(-40));
        for (var i = 0; i < 5; i++)
        {
            await host.Data.OutboxAsync(job, Now.AddDays(-9), dispatchedAt: Now.AddDays(-8));   // older than 7 days: deleted
            await host.Data.DeliveryLogAsync(job, DeliveryOutcome.TransientFailure, Now.AddDays(-31), attempt: i + 1);   // older than 30 days: deleted
        }
        await host.Data.OutboxAsync(job, Now.AddDays(-9), dispatchedAt: Now.AddDays(-6));       // kept
        await host.Data.OutboxAsync(job, Now.AddDays(-9), dispatchedAt: null);                  // never dispatched: kept
        await host.Data.DeliveryLogAsync(job, DeliveryOutcome.Sent, Now.AddDays(-29), attempt: 6);   // kept
        await using (var db = host.Data.Context())
        {
            db.IdempotencyKeys.Add(Key("expired", Now.AddMinutes(-1)));
            db.IdempotencyKeys.Add(Key("live", Now.AddHours(1)));
            db.CronJobExecutions.Add(Run(Now.AddDays(-91), CronJobStatus.Completed));    // deleted
            db.CronJobExecutions.Add(Run(Now.AddDays(-95), CronJobStatus.Failed));       // deleted
            db.CronJobExecutions.Add(Run(Now.AddDays(-89), CronJobStatus.Completed));    // kept
            db.CronJobExecutions.Add(Run(Now.AddDays(-100), CronJobStatus.Running));     // unfinished: kept
            await db.SaveChangesAsync(TestContext.Current.CancellationToken);
        }

        var outcome = await host.RunAsync(CronJobCatalog.Retention);

        Assert.Equal(CronJobStatus.Completed, outcome.Status);
        Assert.Equal(5 + 1 + 5 + 2, outcome.Counts.Completed);
        Assert.Equal(2L, await host.ScalarAsync<long>("SELECT count(*) FROM outbox_messages"));
        Assert.Equal(0L, await host.ScalarAsync<long>("SELECT count(*) FROM outbox_messages WHERE dispatched_at < @cutoff", ("cutoff", Now.AddDays(-7))));
        Assert.Equal(1L, await host.ScalarAsync<long>("SELECT count(*) FROM delivery_logs"));
        Assert.Equal("live", await host.ScalarAsync<string>("SELECT string_agg(key, ',') FROM idempotency_keys"));
        // The two kept runs, and this retention run itself.
        Assert.Equal(3L, await host.ScalarAsync<long>("SELECT count(*) FROM cron_job_executions"));
        Assert.Equal(0L, await host.ScalarAsync<long>("SELECT count(*) FROM cron_job_executions WHERE status <> 'running' AND completed_at < @cutoff", ("cutoff", Now.AddDays(-90))));
    }

    private static IdempotencyKey Key(string key, DateTimeOffset expiresAt) => new()
    {
        Scope = "producer-a", Key = key, RequestHash = "hash", CreatedAt = expiresAt.AddHours(-24), ExpiresAt = expiresAt,
    };

    private static CronJobExecution Run(DateTimeOffset startedAt, CronJobStatus status) => new()
    {
        JobName = CronJobCatalog.DeferredRelease,
        StartedAt = startedAt,
        Status = status,
        CompletedAt = status == CronJobStatus.Running ? null : startedAt.AddSeconds(1),
        DurationMs = status == CronJobStatus.Running ? null : 1000,
        Results = status == CronJobStatus.Running ? null : JsonDocument.Parse("""{"found":0,"completed":0,"failed":0,"skipped":0,"errors":0}"""),
    };
}
