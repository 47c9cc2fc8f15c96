using Notifications.Domain.Model;
using Notifications.Domain.Redis;
using Notifications.Domain.Scheduling;
using StackExchange.Redis;

namespace Notifications.Scheduler.Tests.Jobs;

/// <summary><c>deferred-release</c>: deferred jobs go back to the workers when their time has come, most urgent first.</summary>
[Collection(SchedulerTestCollection.Name)]
public sealed class DeferredReleaseTests(TestServers servers)
{
    private static readonly DateTimeOffset Now = CronJobsHost.DefaultNow;

    [Fact]
    public async Task DueDeferredJobs_AreQueuedWithOutboxRows_HighestPriorityFirstThenOldest()
    {
        await using var host = await CronJobsHost.StartAsync(servers, new Dictionary<string, string?> { ["Scheduler:DeferredRelease:BatchSize"] = "2" });
        await host.Redis.KeyDeleteAsync(RedisKeys.EmailQuotaLock);
        var user = await host.Data.UserAsync(Now);
        var due = Now.AddMinutes(-1);
        var lowOld = await host.Data.JobAsync(user, DeliveryJobStatus.Deferred, Now.AddHours(-5), due, priority: NotificationPriority.Low);
        var normalNew = await host.Data.JobAsync(user, DeliveryJobStatus.Deferred, Now.AddHours(-1), due);
        var normalOld = await host.Data.JobAsync(user, DeliveryJobStatus.Deferred, Now.AddHours(-4), due);
        var critical = await host.Data.JobAsync(user, DeliveryJobStatus.Deferred, Now.AddHours(-2), due, priority: NotificationPriority.Critical);
        var high = await host.Data.JobAsync(user, DeliveryJobStatus.Deferred, Now.AddHours(-3), due, priority: NotificationPriority.High);
        var notYet = await host.Data.JobAsync(user, DeliveryJobStatus.Deferred, Now.AddHours(-6), Now.AddMinutes(5));

        var outcome = await host.RunAsync(CronJobCatalog.DeferredRelease);

        Assert.Equal((5, 5), (outcome.Counts.Found, outcome.Counts.Completed));
        Guid[] expectedOrder = [critical, high, normalOld, normalNew, lowOld];
        await using (var db = host.Data.Context())
        {
            var released = db.OutboxMessages.OrderBy(message => message.Id).Select(message => message.JobId).ToList();
            Assert.Equal(expectedOrder, released);
        }
        Assert.All(await host.Data.GetJobsAsync(expectedOrder), job =>
        {
            Assert.Equal(DeliveryJobStatus.Queued, job.Status);
            Assert.Equal(Now, job.UpdatedAt);
        });
        Assert.Equal(DeliveryJobStatus.Deferred, (await host.Data.GetJobAsync(notYet)).Status);
        Assert.Empty(await host.Data.OutboxOfAsync(notYet));
    }

    [Fact]
    public async Task WhileTheQuotaLockExists_OnlyEmailThatBypassesTheQuota_AndOtherChannels_AreReleased()
    {
        await using var host = await CronJobsHost.StartAsync(servers);
        var user = await host.Data.UserAsync(Now);
        var due = Now.AddMinutes(-1);
        var normal = await host.Data.JobAsync(user, DeliveryJobStatus.Deferred, Now.AddHours(-1), due);
        var low = await host.Data.JobAsync(user, DeliveryJobStatus.Deferred, Now.AddHours(-1), due, priority: NotificationPriority.Low);
        var high = await host.Data.JobAsync(user, DeliveryJobStatus.Deferred, Now.AddHours(-1), due, priority: NotificationPriority.High);
        var critical = await host.Data.JobAsync(user, DeliveryJobStatus.Deferred, Now.AddHours(-1), due, priority: NotificationPriority.Critical);
        var inApp = await host.Data.JobAsync(user, DeliveryJobStatus.Deferred, Now.AddHours(-1), due, channel: DeliveryChannel.InApp);
        await host.Redis.StringSetAsync(RedisKeys.EmailQuotaLock, Now.AddHours(14).ToString("O"), TimeSpan.FromMinutes(5));
        try
        {
            await host.RunAsync(CronJobCatalog.DeferredRelease);

            Assert.Equal(DeliveryJobStatus.Deferred, (await host.Data.GetJobAsync(normal)).Status);
            Assert.Equal(DeliveryJobStatus.Deferred, (await host.Data.GetJobAsync(low)).Status);
            Assert.All(await host.Data.GetJobsAsync([high, critical, inApp]), job => Assert.Equal(DeliveryJobStatus.Queued, job.Status));
            Assert.Equal(RedisValueOf(Now.AddHours(14).ToString("O")), await host.Redis.StringGetAsync(RedisKeys.EmailQuotaLock));
        }
        finally
        {
            await host.Redis.KeyDeleteAsync(RedisKeys.EmailQuotaLock);
        }

        await host.RunAsync(CronJobCatalog.DeferredRelease);

        Assert.All(await host.Data.GetJobsAsync([normal, low]), job => Assert.Equal(DeliveryJobStatus.Queued, job.Status));
    }

    [Fact]
    public async Task QuotaGatedEmail_IsReleasedOnlyAsFarAsTheQuotaHasSlotsLeft_LessWhatIsAlreadyOnItsWay()
    {
        await using var host = await CronJobsHost.StartAsync(servers);
        await host.Redis.KeyDeleteAsync(RedisKeys.EmailQuotaLock);
        var user = await host.Data.UserAsync(Now);
        var due = Now.AddMinutes(-1);
        await host.Data.JobAsync(user, DeliveryJobStatus.Queued, Now.AddMinutes(-2));
        var normalOld = await host.Data.JobAsync(user, DeliveryJobStatus.Deferred, Now.AddHours(-4), due);
        var lowOld = await host.Data.JobAsync(user, DeliveryJobStatus.Deferred, Now.AddHours(-5), due, priority: NotificationPriority.Low);
        var normalNew = await host.Data.JobAsync(user, DeliveryJobStatus.Deferred, Now.AddHours(-1), due);
        var normalNewest = await host.Data.JobAsync(user, DeliveryJobStatus.Deferred, Now.AddMinutes(-30), due);
        var high = await host.Data.JobAsync(user, DeliveryJobStatus.Deferred, Now.AddHours(-1), due, priority: NotificationPriority.High);
        var inApp = await host.Data.JobAsync(user, DeliveryJobStatus.Deferred, Now.AddHours(-1), due, channel: DeliveryChannel.InApp);
        var dayKey = RedisKeys.EmailQuotaDay(DateOnly.FromDateTime(Now.UtcDateTime));
        // The default daily limit is 100: 3 slots left, 1 of them for the queued email.
        await host.Redis.StringSetAsync(dayKey, 97, TimeSpan.FromMinutes(5));
        try
        {
            var outcome = await host.RunAsync(CronJobCatalog.DeferredRelease);

            Assert.Equal(4, outcome.Counts.Completed);
            Assert.All(await host.Data.GetJobsAsync([high, inApp, normalOld, normalNew]), job => Assert.Equal(DeliveryJobStatus.Queued, job.Status));
            Assert.All(await host.Data.GetJobsAsync([normalNewest, lowOld]), job => Assert.Equal(DeliveryJobStatus.Deferred, job.Status));

            await host.RunAsync(CronJobCatalog.DeferredRelease);

            Assert.All(await host.Data.GetJobsAsync([normalNewest, lowOld]), job => Assert.Equal(DeliveryJobStatus.Deferred, job.Status));
        }
        finally
        {
            await host.Redis.KeyDeleteAsync(dayKey);
        }
    }

    [Fact]
    public async Task WithTheQuotaDisabled_AllDueEmailIsReleased()
    {
        await using var host = await CronJobsHost.StartAsync(servers, new Dictionary<string, string?> { ["Email:Quota:Enabled"] = "false" });
        await host.Redis.KeyDeleteAsync(RedisKeys.EmailQuotaLock);
        var user = await host.Data.UserAsync(Now);
        var jobs = new List<Guid>();
        for (var index = 0; index < 150; index++)
        {
            jobs.Add(await host.Data.JobAsync(user, DeliveryJobStatus.Deferred, Now.AddHours(-1), Now.AddMinutes(-1)));
        }

        await host.RunAsync(CronJobCatalog.DeferredRelease);

        Assert.All(await host.Data.GetJobsAsync(jobs), job => Assert.Equal(DeliveryJobStatus.Queued, job.Status));
    }

    [Fact]
    public async Task ReleasingJobs_SignalsTheOutboxRelaysAsTheBatchCommits_AndARunThatReleasesNothingDoesNot()
    {
        await using var host = await CronJobsHost.StartAsync(servers);
        await using var relays = await OutboxSignalListener.StartAsync(host.ConnectionString);
        var user = await host.Data.UserAsync(Now);

        await host.RunAsync(CronJobCatalog.DeferredRelease);
        Assert.Equal(0, await relays.CountSignalsBeforeMarkerAsync());

        var job = await host.Data.JobAsync(user, DeliveryJobStatus.Deferred, Now.AddHours(-1), Now.AddMinutes(-1), channel: DeliveryChannel.InApp);
        await host.RunAsync(CronJobCatalog.DeferredRelease);

        Assert.Equal(DeliveryJobStatus.Queued, (await host.Data.GetJobAsync(job)).Status);
        Assert.Equal(1, await relays.CountSignalsBeforeMarkerAsync());
    }

    [Fact]
    public async Task OtherStatuses_AreNotTouched()
    {
        await using var host = await CronJobsHost.StartAsync(servers);
        await host.Redis.KeyDeleteAsync(RedisKeys.EmailQuotaLock);
        var user = await host.Data.UserAsync(Now);
        var pending = await host.Data.JobAsync(user, DeliveryJobStatus.Pending, Now.AddHours(-1), Now.AddMinutes(-1));
        var sent = await host.Data.JobAsync(user, DeliveryJobStatus.Sent, Now.AddHours(-1), Now.AddMinutes(-1));

        var outcome = await host.RunAsync(CronJobCatalog.DeferredRelease);

        Assert.Equal(0, outcome.Counts.Found);
        Assert.Equal(DeliveryJobStatus.Pending, (await host.Data.GetJobAsync(pending)).Status);
        Assert.Equal(DeliveryJobStatus.Sent, (await host.Data.GetJobAsync(sent)).Status);
    }

    private static RedisValue RedisValueOf(string value) => value;
}
