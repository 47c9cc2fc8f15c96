using Notifications.Domain.Digests;
using Notifications.Domain.Model;
using Notifications.Domain.Scheduling;
using Notifications.Scheduler.Digests;

namespace Notifications.Scheduler.Tests.Digests;

/// <summary><c>digest-dispatch</c> against a real database: what one run writes for each kind of due schedule.</summary>
[Collection(SchedulerTestCollection.Name)]
public sealed class DigestDispatchTests(TestServers servers)
{
    private static readonly DateTimeOffset Now = CronJobsHost.DefaultNow;
    private static readonly DateTimeOffset DueAt = Now.AddMinutes(-1);

    [Fact]
    public async Task DueSchedule_FoldsEveryPendingEmailIntoOneQueuedDigestWithItsOutboxRow_AndAdvances()
    {
        await using var host = await CronJobsHost.StartAsync(servers);
        var user = await host.Data.UserAsync(Now);
        var pending = await host.Data.PendingDigestJobsAsync(user, Now.AddHours(-3), count: 3);
        var schedule = await host.Data.ScheduleAsync(user, DueAt, deliveryTime: new TimeOnly(9, 59), maxItems: 15);

        var outcome = await host.RunAsync(CronJobCatalog.DigestDispatch);

        Assert.Equal(CronJobStatus.Completed, outcome.Status);
        Assert.Equal((1, 1, 0, 0), (outcome.Counts.Found, outcome.Counts.Completed, outcome.Counts.Failed, outcome.Counts.Skipped));
        var digest = Assert.Single(await host.Data.DigestsOfAsync(user));
        Assert.Equal(DeliveryJobStatus.Queued, digest.Status);
        Assert.Equal(DeliveryChannel.Email, digest.Channel);
        Assert.Equal(NotificationPriority.Normal, digest.Priority);
        Assert.Null(digest.NotificationId);
        Assert.Equal($"schedule:{schedule.Id}:{DueAt.UtcDateTime:O}", digest.DigestPeriodKey);
        Assert.Equal(15, digest.DigestMaxItems);
        var outbox = Assert.Single(await host.Data.OutboxOfAsync(digest.Id));
        Assert.Null(outbox.DispatchedAt);
        Assert.Equal(Now, outbox.AvailableAt);
        var message = outbox.ToDeliveryMessage();
        Assert.Equal((digest.Id, (Guid?)null, user, DeliveryChannel.Email), (message.JobId, message.NotificationId, message.UserId, message.Channel));

        Assert.All(await host.Data.GetJobsAsync(pending), job =>
        {
            Assert.Equal(DeliveryJobStatus.Digested, job.Status);
            Assert.Equal(digest.Id, job.DigestJobId);
        });
        var advanced = await host.Data.GetScheduleAsync(schedule.Id);
        Assert.Equal(Now, advanced.LastSentAt);
        Assert.Equal(DigestCalendar.NextDue(new DigestCadence(DigestFrequency.Daily, new TimeOnly(9, 59), null, "UTC"), Now), advanced.NextDueAt);
        Assert.Equal(new DateTimeOffset(2031, 6, 19, 9, 59, 0, TimeSpan.Zero), advanced.NextDueAt);
    }

    [Fact]
    public async Task DueSchedule_SignalsTheOutboxRelaysAsItsDigestCommits_AndOneWithNothingPendingDoesNot()
    {
        await using var host = await CronJobsHost.StartAsync(servers);
        await using var relays = await OutboxSignalListener.StartAsync(host.ConnectionString);
        var idle = await host.Data.UserAsync(Now);
        await host.Data.ScheduleAsync(idle, DueAt);

        await host.RunAsync(CronJobCatalog.DigestDispatch);
        Assert.Empty(await host.Data.DigestsOfAsync(idle));
        Assert.Equal(0, await relays.CountSignalsBeforeMarkerAsync());

        var busy = await host.Data.UserAsync(Now);
        await host.Data.PendingDigestJobsAsync(busy, Now.AddHours(-1), count: 2);
        await host.Data.ScheduleAsync(busy, DueAt);
        await host.RunAsync(CronJobCatalog.DigestDispatch);

        Assert.Single(await host.Data.DigestsOfAsync(busy));
        Assert.Equal(1, await relays.CountSignalsBeforeMarkerAsync());
    }

    [Fact]
    public async Task MoreItemsThanMaxItems_AllAreFoldedAndTheDigestListsMaxItems()
    {
        await using var host = await CronJobsHost.StartAsync(servers);
        var user = await host.Data.UserAsync(Now);
        var pending = await host.Data.PendingDigestJobsAsync(user, Now.AddHours(-1), count: 25);
        await host.Data.ScheduleAsync(user, DueAt, maxItems: 10);

        await host.RunAsync(CronJobCatalog.DigestDispatch);

        var digest = Assert.Single(await host.Data.DigestsOfAsync(user));
        Assert.Equal(10, digest.DigestMaxItems);
        Assert.All(await host.Data.GetJobsAsync(pending), job => Assert.Equal(digest.Id, job.DigestJobId));
    }

    [Fact]
    public async Task IncludedCategories_OnlyThoseAreFolded_OthersStayPending()
    {
        await using var host = await CronJobsHost.StartAsync(servers);
        var user = await host.Data.UserAsync(Now);
        var billing = await host.Data.PendingDigestJobsAsync(user, Now.AddHours(-1), count: 2, category: "billing");
        var security = await host.Data.PendingDigestJobsAsync(user, Now.AddHours(-1), count: 1, category: "security");
        var comments = await host.Data.PendingDigestJobsAsync(user, Now.AddHours(-1), count: 2, category: "comments");
        await host.Data.ScheduleAsync(user, DueAt, categories: ["billing", "security"]);

        await host.RunAsync(CronJobCatalog.DigestDispatch);

        var digest = Assert.Single(await host.Data.DigestsOfAsync(user));
        Assert.All(await host.Data.GetJobsAsync(billing.Concat(security)), job => Assert.Equal(digest.Id, job.DigestJobId));
        Assert.All(await host.Data.GetJobsAsync(comments), job => Assert.Equal(DeliveryJobStatus.DigestPending, job.Status));
    }

    [Theory]
    [InlineData(false, false)]
    [InlineData(true, true)]
    public async Task MutedOrEmailDisabledUser_GetsNoDigest_KeepsPendingItems_ScheduleStillAdvances(bool emailEnabled, bool muted)
    {
        await using var host = await CronJobsHost.StartAsync(servers);
        var user = await host.Data.UserAsync(Now, emailEnabled, muted ? Now.AddDays(2) : null);
        var pending = await host.Data.PendingDigestJobsAsync(user, Now.AddHours(-1), count: 2);
        var schedule = await host.Data.ScheduleAsync(user, DueAt);

        var outcome = await host.RunAsync(CronJobCatalog.DigestDispatch);

        Assert.Empty(await host.Data.DigestsOfAsync(user));
        Assert.All(await host.Data.GetJobsAsync(pending), job => Assert.Equal(DeliveryJobStatus.DigestPending, job.Status));
        var advanced = await host.Data.GetScheduleAsync(schedule.Id);
        Assert.True(advanced.NextDueAt > Now);
        Assert.Null(advanced.LastSentAt);
        Assert.Equal((1, 0, 1), (outcome.Counts.Found, outcome.Counts.Completed, outcome.Counts.Skipped));
    }

    [Fact]
    public async Task MuteThatHasEnded_DigestGoesOut()
    {
        await using var host = await CronJobsHost.StartAsync(servers);
        var user = await host.Data.UserAsync(Now, mutedUntil: Now.AddHours(-1));
        await host.Data.PendingDigestJobsAsync(user, Now.AddHours(-2));
        await host.Data.ScheduleAsync(user, DueAt);

        await host.RunAsync(CronJobCatalog.DigestDispatch);

        Assert.Single(await host.Data.DigestsOfAsync(user));
    }

    [Fact]
    public async Task NothingPending_NoDigest_ButTheScheduleAdvances()
    {
        await using var host = await CronJobsHost.StartAsync(servers);
        var user = await host.Data.UserAsync(Now);
        var schedule = await host.Data.ScheduleAsync(user, DueAt);

        var outcome = await host.RunAsync(CronJobCatalog.DigestDispatch);

        Assert.Empty(await host.Data.DigestsOfAsync(user));
        var advanced = await host.Data.GetScheduleAsync(schedule.Id);
        Assert.True(advanced.NextDueAt > Now);
        Assert.Null(advanced.LastSentAt);
        Assert.Equal(1, outcome.Counts.Skipped);
    }

    [Fact]
    public async Task ScheduleNotDueOrInactive_IsLeftAlone()
    {
        await using var host = await CronJobsHost.StartAsync(servers);
        var later = await host.Data.UserAsync(Now);
        var inactive = await host.Data.UserAsync(Now);
        await host.Data.PendingDigestJobsAsync(later, Now.AddHours(-1));
        await host.Data.PendingDigestJobsAsync(inactive, Now.AddHours(-1));
        var notDue = await host.Data.ScheduleAsync(later, Now.AddMinutes(1));
        var paused = await host.Data.ScheduleAsync(inactive, DueAt, active: false);

        var outcome = await host.RunAsync(CronJobCatalog.DigestDispatch);

        Assert.Equal(0, outcome.Counts.Found);
        Assert.Empty(await host.Data.DigestsOfAsync(later));
        Assert.Empty(await host.Data.DigestsOfAsync(inactive));
        Assert.Equal(notDue.NextDueAt, (await host.Data.GetScheduleAsync(notDue.Id)).NextDueAt);
        Assert.Equal(paused.NextDueAt, (await host.Data.GetScheduleAsync(paused.Id)).NextDueAt);
    }

    [Fact]
    public async Task ScheduleMissedForDays_SendsOneDigestAndAdvancesPastNow()
    {
        await using var host = await CronJobsHost.StartAsync(servers);
        var user = await host.Data.UserAsync(Now);
        await host.Data.PendingDigestJobsAsync(user, Now.AddDays(-4), count: 4);
        var schedule = await host.Data.ScheduleAsync(user, Now.AddDays(-3).AddHours(-1), deliveryTime: new TimeOnly(9, 0));

        await host.RunAsync(CronJobCatalog.DigestDispatch);
        var second = await host.RunAsync(CronJobCatalog.DigestDispatch);

        Assert.Single(await host.Data.DigestsOfAsync(user));
        Assert.Equal(new DateTimeOffset(2031, 6, 19, 9, 0, 0, TimeSpan.Zero), (await host.Data.GetScheduleAsync(schedule.Id)).NextDueAt);
        Assert.Equal(0, second.Counts.Found);
    }

    [Fact]
    public async Task WeeklyScheduleInItsTimeZone_AdvancesToTheSameLocalTimeNextWeek()
    {
        await using var host = await CronJobsHost.StartAsync(servers);
        var user = await host.Data.UserAsync(Now);
        // Wednesday 18 June 2031, 11:30 in Berlin (UTC+2) is 09:30 UTC.
        var schedule = await host.Data.ScheduleAsync(user, new DateTimeOffset(2031, 6, 18, 9, 30, 0, TimeSpan.Zero),
            DigestFrequency.Weekly, new TimeOnly(11, 30), deliveryDay: 3, timeZone: "Europe/Berlin");

        await host.RunAsync(CronJobCatalog.DigestDispatch);

        Assert.Equal(new DateTimeOffset(2031, 6, 25, 9, 30, 0, TimeSpan.Zero), (await host.Data.GetScheduleAsync(schedule.Id)).NextDueAt);
    }

    [Fact]
    public async Task ScheduleWithAnUnknownTimeZone_CountsAsFailed_WhileTheOthersAreSent()
    {
        await using var host = await CronJobsHost.StartAsync(servers);
        var broken = await host.Data.UserAsync(Now);
        var fine = await host.Data.UserAsync(Now);
        await host.Data.PendingDigestJobsAsync(broken, Now.AddHours(-1));
        await host.Data.PendingDigestJobsAsync(fine, Now.AddHours(-1));
        var bad = await host.Data.ScheduleAsync(broken, DueAt, timeZone: "Mars/Olympus_Mons");
        await host.Data.ScheduleAsync(fine, DueAt);

        var outcome = await host.RunAsync(CronJobCatalog.DigestDispatch);

        Assert.Equal(CronJobStatus.Completed, outcome.Status);
        Assert.Equal((2, 1, 1), (outcome.Counts.Found, outcome.Counts.Completed, outcome.Counts.Failed));
        Assert.Contains("Mars/Olympus_Mons", outcome.ErrorMessage);
        Assert.Single(await host.Data.DigestsOfAsync(fine));
        Assert.Empty(await host.Data.DigestsOfAsync(broken));
        Assert.Equal(bad.NextDueAt, (await host.Data.GetScheduleAsync(bad.Id)).NextDueAt);
    }

    [Fact]
    public async Task ManyDueSchedules_AreSentInSeveralBatches()
    {
        await using var host = await CronJobsHost.StartAsync(servers, new Dictionary<string, string?>
        {
            ["Scheduler:Digests:BatchSize"] = "4",
            ["Scheduler:Digests:Parallelism"] = "3",
        });
        var users = new List<string>();
        for (var i = 0; i < 23; i++)
        {
            var user = await host.Data.UserAsync(Now);
            await host.Data.PendingDigestJobsAsync(user, Now.AddHours(-1), count: 2);
            await host.Data.ScheduleAsync(user, DueAt.AddSeconds(-i));
            users.Add(user);
        }

        var outcome = await host.RunAsync(CronJobCatalog.DigestDispatch);

        Assert.Equal((23, 23), (outcome.Counts.Found, outcome.Counts.Completed));
        foreach (var user in users)
        {
            Assert.Single(await host.Data.DigestsOfAsync(user));
        }
    }
}
