using System.Text.Json;
using Notifications.EndToEndTests.Support;
using Notifications.Testing;

namespace Notifications.EndToEndTests;

/// <summary>The README's first notification, through the whole running system: API → outbox relay → Redis → worker → SSE and dev mailbox.</summary>
[Collection(RunningAppHostCollection.Name)]
public sealed class FirstNotificationTests(AppHostTestHost appHost) : IDisposable
{
    private readonly NotificationsApiClient _api = new(appHost);

    public void Dispose() => _api.Dispose();

    [Fact]
    public async Task ANotificationAProducerSends_ReachesTheOpenStream_TheDevMailboxOnce_TheInbox_TheJobs_AndTheMetrics()
    {
        var producer = await _api.ProducerAsync();
        var admin = await _api.AdminAsync();
        var recipient = await _api.RegisterUserAsync(producer);
        var user = await _api.ClientForAsync(recipient.Id);
        var sentTodayBefore = (await _api.AdminMetricsAsync(admin)).GetProperty("email").GetProperty("sentToday").GetInt32();
        await using var stream = await EventStreamClient.OpenAsync(user, "/api/notifications/stream");

        var sent = await _api.SendAsync(producer, recipient, "comment.created", "Ada commented on your post");

        Assert.Equal(["email:queued", "in_app:queued"], sent.Jobs.Select(job => $"{job.Channel}:{job.Status}").Order());

        var pushed = await stream.ReadEventAsync();
        Assert.Equal("notification", pushed.Event);
        Assert.Equal(sent.NotificationId.ToString(), pushed.Id);
        var pushedNotification = JsonDocument.Parse(pushed.Data!).RootElement;
        Assert.Equal(sent.NotificationId, pushedNotification.GetProperty("id").GetGuid());
        Assert.Equal("Ada commented on your post", pushedNotification.Str("title"));

        foreach (var job in sent.Jobs)
        {
            var details = await Poll.UntilAsync(
                $"the {job.Channel} job is sent",
                () => _api.GetJobAsync(user, job.Id),
                found => found.GetProperty("job").Str("status") == "sent");
            var logs = details.GetProperty("deliveryLogs").EnumerateArray().ToList();
            Assert.Equal("sent", Assert.Single(logs).Str("outcome"));
            Assert.Equal(sent.NotificationId, details.GetProperty("notification").GetProperty("id").GetGuid());
            Assert.True(details.GetProperty("processingTimeMs").GetInt64() >= 0, $"No processing time: {details}");
        }

        var mail = Assert.Single(await _api.MailboxAsync(recipient.Email));
        Assert.Equal("Ada commented on your post", mail.Str("subject"));
        var message = await _api.MailboxMessageAsync(mail.GetProperty("id").GetGuid());
        Assert.Equal(sent.Job("email").Id.ToString(), message.Str("idempotencyKey"));

        using var inboxResponse = await user.GetAsync("/api/notifications", TestContext.Current.CancellationToken);
        var inbox = await NotificationsApiClient.ReadJsonAsync(inboxResponse, System.Net.HttpStatusCode.OK);
        var listed = Assert.Single(inbox.GetProperty("items").EnumerateArray());
        Assert.Equal(sent.NotificationId, listed.GetProperty("id").GetGuid());

        var metrics = await _api.AdminMetricsAsync(admin);
        Assert.True(metrics.GetProperty("email").GetProperty("sentToday").GetInt32() >= sentTodayBefore + 1, $"sentToday did not count the email: {metrics}");
        Assert.True(metrics.GetProperty("jobsByStatus").GetProperty("sent").GetInt32() >= 2, $"jobsByStatus did not count the jobs: {metrics}");
    }
}
