using System.Net;
using System.Net.Http.Json;
using Notifications.EndToEndTests.Support;
using Notifications.Testing;

namespace Notifications.EndToEndTests;

/// <summary>
/// Issue 5's "done when": a user whose schedule is due gets one digest in the dev mailbox with their pending
/// notifications, the admin API shows the run, and running the job again sends nothing more.
/// </summary>
[Collection(RunningAppHostCollection.Name)]
public sealed class DigestTests(AppHostTestHost appHost) : IDisposable
{
    private const string DigestDispatch = "digest-dispatch";

    private readonly NotificationsApiClient _api = new(appHost);

    private static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    public void Dispose() => _api.Dispose();

    [Fact]
    public async Task ADueDailySchedule_SendsOneDigestListingThePendingNotifications_AndARepeatedRunSendsNoSecond()
    {
        var producer = await _api.ProducerAsync();
        var admin = await _api.AdminAsync();
        var recipient = await _api.RegisterUserAsync(producer);
        var user = await _api.ClientForAsync(recipient.Id);
        using (var preferences = await user.PutAsJsonAsync("/api/notifications/preferences", new
        {
            emailEnabled = true,
            rules = new[] { new { scope = "category", key = "social", channel = "email", enabled = true, deliveryMode = "digest" } },
        }, Cancellation))
        {
            await NotificationsApiClient.ReadJsonAsync(preferences, HttpStatusCode.OK);
        }
        using var created = await user.PostAsJsonAsync("/api/digest-schedules",
            new { frequency = "daily", deliveryTime = "08:00", timeZone = "UTC", maxItems = 20 }, Cancellation);
        var scheduleId = (await NotificationsApiClient.ReadJsonAsync(created, HttpStatusCode.Created)).GetProperty("id").GetGuid();

        var first = await _api.SendAsync(producer, recipient, "comment.created", "Grace replied to your comment");
        var second = await _api.SendAsync(producer, recipient, "post.liked", "Linus liked your post");

        Assert.Equal("digest_pending", first.Job("email").Status);
        Assert.Equal("digest_pending", second.Job("email").Status);

        // The scheduler's clock cannot be moved, so the schedule is made due instead: it was due a minute ago.
        Assert.Equal(1, await _api.ExecuteSqlAsync("UPDATE digest_schedules SET next_due_at = now() - interval '1 minute' WHERE id = $1", scheduleId));
        await _api.TriggerCronJobAsync(admin, DigestDispatch);

        var folded = await Poll.UntilAsync(
            "the first email job is folded into a digest",
            () => _api.GetJobAsync(user, first.Job("email").Id),
            job => job.GetProperty("job").Str("status") == "digested");
        var digestJobId = folded.GetProperty("digestJobId").GetGuid();
        Assert.Equal(digestJobId, (await _api.GetJobAsync(user, second.Job("email").Id)).GetProperty("digestJobId").GetGuid());
        var digestJob = await Poll.UntilAsync(
            "the digest job is sent",
            () => _api.GetJobAsync(user, digestJobId),
            job => job.GetProperty("job").Str("status") == "sent");
        Assert.Equal("digest", digestJob.GetProperty("job").Str("kind"));

        var digest = Assert.Single(await _api.MailboxAsync(recipient.Email));
        Assert.Equal("Your digest: 2 notifications", digest.Str("subject"));
        var text = (await _api.MailboxMessageAsync(digest.GetProperty("id").GetGuid())).Str("text");
        Assert.Contains("Grace replied to your comment", text);
        Assert.Contains("Linus liked your post", text);

        // The run that wrote the digest job: it started before the job was created and finished after.
        var digestCreatedAt = digestJob.GetProperty("job").GetProperty("createdAt").GetDateTimeOffset();
        var run = await _api.WaitForCompletedRunAsync(admin, DigestDispatch, "that wrote the digest", candidate =>
            candidate.GetProperty("startedAt").GetDateTimeOffset() <= digestCreatedAt
            && candidate.GetProperty("completedAt").GetDateTimeOffset() >= digestCreatedAt);
        Assert.True(run.GetProperty("results").GetProperty("completed").GetInt32() >= 1, $"The run counts no digest: {run}");

        var retriggeredAt = await _api.TriggerCronJobAsync(admin, DigestDispatch);
        await _api.WaitForCompletedRunAsync(admin, DigestDispatch, "after the second trigger",
            candidate => candidate.GetProperty("startedAt").GetDateTimeOffset() >= retriggeredAt);

        Assert.Single(await _api.MailboxAsync(recipient.Email));
        var emailJobs = await _api.ListJobsAsync(user, "channel=email");
        Assert.Equal(["digested", "digested", "sent"], emailJobs.Select(job => job.Str("status")).Order());
        var schedule = await ReadScheduleAsync(user, scheduleId);
        Assert.True(schedule.GetProperty("nextDueAt").GetDateTimeOffset() > DateTimeOffset.UtcNow, $"The schedule did not advance: {schedule}");
        Assert.NotNull(schedule.GetProperty("lastSentAt").GetString());
    }

    private static async Task<System.Text.Json.JsonElement> ReadScheduleAsync(HttpClient user, Guid scheduleId)
    {
        using var response = await user.GetAsync($"/api/digest-schedules/{scheduleId}", Cancellation);
        return await NotificationsApiClient.ReadJsonAsync(response, HttpStatusCode.OK);
    }
}
