using Microsoft.EntityFrameworkCore;
using Notifications.Domain.Model;
using Notifications.Domain.Scheduling;

namespace Notifications.Scheduler.Tests.Jobs;

/// <summary>
/// <c>stuck-job-recovery</c> (threshold 10 minutes, cap 3): jobs nothing will move any more go back to the workers; a job
/// recovered too often is dead-lettered.
/// </summary>
[Collection(SchedulerTestCollection.Name)]
public sealed class StuckJobRecoveryTests(TestServers servers)
{
    private static readonly DateTimeOffset Now = CronJobsHost.DefaultNow;
    private static readonly DateTimeOffset LongAgo = Now.AddMinutes(-30);

    [Fact]
    public async Task QueuedJobWhoseStreamEntryWasLost_IsQueuedAgainWithANewOutboxRow()
    {
        await using var host = await CronJobsHost.StartAsync(servers);
        var user = await host.Data.UserAsync(Now);
        // Redis flushed mid-flow: the relay handed the job to the stream, the stream is gone, no worker will claim it.
        var lost = await host.Data.JobAsync(user, DeliveryJobStatus.Queued, LongAgo);
        await host.Data.OutboxAsync(lost, LongAgo, dispatchedAt: LongAgo.AddSeconds(1));

        var outcome = await host.RunAsync(CronJobCatalog.StuckJobRecovery);

        Assert.Equal((1, 1, 0), (outcome.Counts.Found, outcome.Counts.Completed, outcome.Counts.Failed));
        var job = await host.Data.GetJobAsync(lost);
        Assert.Equal(DeliveryJobStatus.Queued, job.Status);
        Assert.Equal(1, job.RecoveryCount);
        Assert.Equal(Now, job.UpdatedAt);
        var outbox = await host.Data.OutboxOfAsync(lost);
        Assert.Equal(2, outbox.Count);
        Assert.Null(outbox[1].DispatchedAt);
        Assert.Equal(lost, outbox[1].ToDeliveryMessage().JobId);
    }

    [Fact]
    public async Task QueuedJobWithAnUndispatchedOutboxRow_IsOnlyWaitingForRedis_AndIsLeftAlone()
    {
        await using var host = await CronJobsHost.StartAsync(servers);
        var user = await host.Data.UserAsync(Now);
        var waiting = await host.Data.JobAsync(user, DeliveryJobStatus.Queued, LongAgo);
        await host.Data.OutboxAsync(waiting, LongAgo, dispatchedAt: null);

        var outcome = await host.RunAsync(CronJobCatalog.StuckJobRecovery);

        Assert.Equal(0, outcome.Counts.Found);
        var job = await host.Data.GetJobAsync(waiting);
        Assert.Equal((DeliveryJobStatus.Queued, 0, LongAgo), (job.Status, job.RecoveryCount, job.UpdatedAt));
        Assert.Single(await host.Data.OutboxOfAsync(waiting));
    }

    [Fact]
    public async Task RecentJobs_AndAJustDispatchedRetry_AreNotStuckYet()
    {
        await using var host = await CronJobsHost.StartAsync(servers);
        var user = await host.Data.UserAsync(Now);
        var freshQueued = await host.Data.JobAsync(user, DeliveryJobStatus.Queued, Now.AddMinutes(-5));
        await host.Data.OutboxAsync(freshQueued, Now.AddMinutes(-5), dispatchedAt: Now.AddMinutes(-5));
        var freshProcessing = await host.Data.JobAsync(user, DeliveryJobStatus.Processing, Now.AddMinutes(-5));
        // A retry scheduled long ago whose outbox row only just fell due and went to the stream.
        var retry = await host.Data.JobAsync(user, DeliveryJobStatus.Pending, LongAgo, scheduledFor: Now.AddMinutes(-1));
        await host.Data.OutboxAsync(retry, LongAgo, dispatchedAt: Now.AddMinutes(-1), availableAt: Now.AddMinutes(-1));
        var retryLater = await host.Data.JobAsync(user, DeliveryJobStatus.Pending, LongAgo, scheduledFor: Now.AddHours(1));
        await host.Data.OutboxAsync(retryLater, LongAgo, dispatchedAt: null, availableAt: Now.AddHours(1));

        var outcome = await host.RunAsync(CronJobCatalog.StuckJobRecovery);

        Assert.Equal(0, outcome.Counts.Found);
        Assert.All(await host.Data.GetJobsAsync([freshQueued, freshProcessing, retry, retryLater]), job => Assert.Equal(0, job.RecoveryCount));
    }

    [Fact]
    public async Task ProcessingPastTheLease_ADeadWorkersJob_IsQueuedAgain()
    {
        await using var host = await CronJobsHost.StartAsync(servers);
        var user = await host.Data.UserAsync(Now);
        var abandoned = await host.Data.JobAsync(user, DeliveryJobStatus.Processing, LongAgo, recoveryCount: 1);
        await host.Data.OutboxAsync(abandoned, LongAgo, dispatchedAt: LongAgo);

        await host.RunAsync(CronJobCatalog.StuckJobRecovery);

        var job = await host.Data.GetJobAsync(abandoned);
        Assert.Equal((DeliveryJobStatus.Queued, 2), (job.Status, job.RecoveryCount));
        Assert.Equal(2, (await host.Data.OutboxOfAsync(abandoned)).Count);
    }

    [Fact]
    public async Task StuckJobAtTheRecoveryCap_IsDeadLetteredAsTransient_WithItsAttempts()
    {
        await using var host = await CronJobsHost.StartAsync(servers);
        var user = await host.Data.UserAsync(Now);
        var hopeless = await host.Data.JobAsync(user, DeliveryJobStatus.Processing, LongAgo, recoveryCount: 3);
        await host.Data.DeliveryLogAsync(hopeless, DeliveryOutcome.TransientFailure, LongAgo.AddMinutes(-20), attempt: 1);
        await host.Data.DeliveryLogAsync(hopeless, DeliveryOutcome.TransientFailure, LongAgo.AddMinutes(-10), attempt: 2);

        var outcome = await host.RunAsync(CronJobCatalog.StuckJobRecovery);

        Assert.Equal((1, 0, 1), (outcome.Counts.Found, outcome.Counts.Completed, outcome.Counts.Failed));
        var job = await host.Data.GetJobAsync(hopeless);
        Assert.Equal(DeliveryJobStatus.Failed, job.Status);
        Assert.StartsWith("stuck in processing since", job.LastError);
        Assert.Empty(await host.Data.OutboxOfAsync(hopeless));
        await using var db = host.Data.Context();
        var deadLetter = await db.DeadLetters.AsNoTracking().SingleAsync(letter => letter.JobId == hopeless, TestContext.Current.CancellationToken);
        Assert.Equal(DeliveryErrorType.Transient, deadLetter.ErrorType);
        Assert.Equal(DeliveryChannel.Email, deadLetter.Channel);
        Assert.StartsWith("stuck in processing since", deadLetter.ErrorMessage);
        Assert.Null(deadLetter.RequeuedAt);
        Assert.Equal([1, 2], deadLetter.AttemptHistory.RootElement.EnumerateArray().Select(attempt => attempt.GetProperty("attempt").GetInt32()));
    }

    [Fact]
    public async Task JobDeadLetteredBefore_AndRequeued_UpdatesItsDeadLetterRow()
    {
        await using var host = await CronJobsHost.StartAsync(servers);
        var user = await host.Data.UserAsync(Now);
        var requeued = await host.Data.JobAsync(user, DeliveryJobStatus.Queued, LongAgo, recoveryCount: 3);
        await host.Data.OutboxAsync(requeued, LongAgo, dispatchedAt: LongAgo);
        await using (var db = host.Data.Context())
        {
            db.DeadLetters.Add(new DeadLetter
            {
                JobId = requeued, Channel = DeliveryChannel.Email, ErrorType = DeliveryErrorType.Permanent, HttpStatusCode = 422,
                ErrorMessage = "bad address", AttemptHistory = System.Text.Json.JsonDocument.Parse("[]"),
                CreatedAt = LongAgo.AddDays(-1), UpdatedAt = LongAgo.AddDays(-1), RequeuedAt = LongAgo, RequeueCount = 1,
            });
            await db.SaveChangesAsync(TestContext.Current.CancellationToken);
        }

        await host.RunAsync(CronJobCatalog.StuckJobRecovery);

        await using var check = host.Data.Context();
        var deadLetter = await check.DeadLetters.AsNoTracking().SingleAsync(letter => letter.JobId == requeued, TestContext.Current.CancellationToken);
        Assert.Equal((DeliveryErrorType.Transient, (int?)null, (DateTimeOffset?)null, 1), (deadLetter.ErrorType, deadLetter.HttpStatusCode, deadLetter.RequeuedAt, deadLetter.RequeueCount));
        Assert.StartsWith("stuck in queued since", deadLetter.ErrorMessage);
        Assert.Equal(Now, deadLetter.UpdatedAt);
    }

    [Fact]
    public async Task RedisFlushedMidFlow_EveryLostJobIsHandedOutAgainOnce()
    {
        await using var host = await CronJobsHost.StartAsync(servers, new Dictionary<string, string?> { ["Scheduler:StuckJobs:BatchSize"] = "3" });
        var user = await host.Data.UserAsync(Now);
        var lost = new List<Guid>();
        for (var i = 0; i < 10; i++)
        {
            var job = await host.Data.JobAsync(user, i % 2 == 0 ? DeliveryJobStatus.Queued : DeliveryJobStatus.Processing, LongAgo,
                channel: i % 3 == 0 ? DeliveryChannel.InApp : DeliveryChannel.Email);
            await host.Data.OutboxAsync(job, LongAgo, dispatchedAt: LongAgo);
            lost.Add(job);
        }

        var outcome = await host.RunAsync(CronJobCatalog.StuckJobRecovery);
        var again = await host.RunAsync(CronJobCatalog.StuckJobRecovery);

        Assert.Equal((10, 10), (outcome.Counts.Found, outcome.Counts.Completed));
        Assert.Equal(0, again.Counts.Found);
        foreach (var id in lost)
        {
            var outbox = await host.Data.OutboxOfAsync(id);
            Assert.Equal(2, outbox.Count);
            Assert.Single(outbox, message => message.DispatchedAt is null);
        }
    }
}
