using Notifications.Domain.Model;
using Notifications.Domain.Scheduling;

namespace Notifications.Scheduler.Tests.Digests;

/// <summary><c>default-daily-digest</c>: the last 24 hours' pending emails of users who have no schedule of their own.</summary>
[Collection(SchedulerTestCollection.Name)]
public sealed class DefaultDailyDigestTests(TestServers servers)
{
    private static readonly DateTimeOffset Now = CronJobsHost.DefaultNow;

    [Fact]
    public async Task UserWithoutASchedule_GetsOneDigestOfTheLastDaysPendingEmails_OlderOnesStayPending()
    {
        await using var host = await CronJobsHost.StartAsync(servers);
        var user = await host.Data.UserAsync(Now);
        var recent = await host.Data.PendingDigestJobsAsync(user, Now.AddHours(-23), count: 3);
        var older = await host.Data.PendingDigestJobsAsync(user, Now.AddHours(-25));

        var outcome = await host.RunAsync(CronJobCatalog.DefaultDailyDigest);

        Assert.Equal((1, 1), (outcome.Counts.Found, outcome.Counts.Completed));
        var digest = Assert.Single(await host.Data.DigestsOfAsync(user));
        Assert.Equal("default:2031-06-18", digest.DigestPeriodKey);
        Assert.Equal(20, digest.DigestMaxItems);
        Assert.Equal(DeliveryJobStatus.Queued, digest.Status);
        Assert.Single(await host.Data.OutboxOfAsync(digest.Id));
        Assert.All(await host.Data.GetJobsAsync(recent), job => Assert.Equal(digest.Id, job.DigestJobId));
        Assert.Equal(DeliveryJobStatus.DigestPending, (await host.Data.GetJobAsync(older[0])).Status);
    }

    [Fact]
    public async Task UsersWithAnActiveSchedule_AreLeftToTheirSchedule_AnInactiveScheduleDoesNotCount()
    {
        await using var host = await CronJobsHost.StartAsync(servers);
        var scheduled = await host.Data.UserAsync(Now);
        var paused = await host.Data.UserAsync(Now);
        await host.Data.PendingDigestJobsAsync(scheduled, Now.AddHours(-1));
        await host.Data.PendingDigestJobsAsync(paused, Now.AddHours(-1));
        await host.Data.ScheduleAsync(scheduled, Now.AddDays(1));
        await host.Data.ScheduleAsync(paused, Now.AddDays(1), active: false);

        await host.RunAsync(CronJobCatalog.DefaultDailyDigest);

        Assert.Empty(await host.Data.DigestsOfAsync(scheduled));
        Assert.Single(await host.Data.DigestsOfAsync(paused));
    }

    [Fact]
    public async Task MutedAndEmailDisabledUsers_GetNoDefaultDigest()
    {
        await using var host = await CronJobsHost.StartAsync(servers);
        var muted = await host.Data.UserAsync(Now, mutedUntil: Now.AddHours(1));
        var disabled = await host.Data.UserAsync(Now, emailEnabled: false);
        var pending = (await host.Data.PendingDigestJobsAsync(muted, Now.AddHours(-1)))
            .Concat(await host.Data.PendingDigestJobsAsync(disabled, Now.AddHours(-1)));

        var outcome = await host.RunAsync(CronJobCatalog.DefaultDailyDigest);

        Assert.Equal(0, outcome.Counts.Found);
        Assert.Empty(await host.Data.DigestsOfAsync(muted));
        Assert.Empty(await host.Data.DigestsOfAsync(disabled));
        Assert.All(await host.Data.GetJobsAsync(pending), job => Assert.Equal(DeliveryJobStatus.DigestPending, job.Status));
    }

    [Fact]
    public async Task SecondRunTheSameDay_SendsNoSecondDigest_NewItemsWaitForTomorrow()
    {
        await using var host = await CronJobsHost.StartAsync(servers);
        var user = await host.Data.UserAsync(Now);
        await host.Data.PendingDigestJobsAsync(user, Now.AddHours(-2));
        await host.RunAsync(CronJobCatalog.DefaultDailyDigest);
        host.Time.Advance(TimeSpan.FromHours(3));
        var later = await host.Data.PendingDigestJobsAsync(user, host.Time.GetUtcNow().AddMinutes(-5));

        var sameDay = await host.RunAsync(CronJobCatalog.DefaultDailyDigest);

        Assert.Equal(0, sameDay.Counts.Found);
        Assert.Single(await host.Data.DigestsOfAsync(user));
        Assert.Equal(DeliveryJobStatus.DigestPending, (await host.Data.GetJobAsync(later[0])).Status);

        host.Time.Advance(TimeSpan.FromHours(20));
        await host.RunAsync(CronJobCatalog.DefaultDailyDigest);

        Assert.Equal(2, (await host.Data.DigestsOfAsync(user)).Count);
        Assert.Equal(DeliveryJobStatus.Digested, (await host.Data.GetJobAsync(later[0])).Status);
    }

    [Fact]
    public async Task ManyUsers_InSeveralBatchesAndWorkers_EachGetsExactlyOneDigest_WithTheConfiguredMaxItems()
    {
        await using var host = await CronJobsHost.StartAsync(servers, new Dictionary<string, string?>
        {
            ["Scheduler:Digests:BatchSize"] = "3",
            ["Scheduler:Digests:Parallelism"] = "3",
            ["Scheduler:Digests:DefaultMaxItems"] = "7",
        });
        var users = new List<string>();
        for (var i = 0; i < 20; i++)
        {
            var user = await host.Data.UserAsync(Now);
            await host.Data.PendingDigestJobsAsync(user, Now.AddHours(-1), count: 2);
            users.Add(user);
        }

        var outcome = await host.RunAsync(CronJobCatalog.DefaultDailyDigest);

        Assert.Equal((20, 20), (outcome.Counts.Found, outcome.Counts.Completed));
        foreach (var user in users)
        {
            Assert.Equal(7, Assert.Single(await host.Data.DigestsOfAsync(user)).DigestMaxItems);
        }
    }
}
