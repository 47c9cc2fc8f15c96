using System.Text;
using Notifications.Domain.Messaging;
using Notifications.Domain.Model;
using Notifications.Domain.Redis;
using Notifications.EmailWorker.InApp;
using Notifications.EmailWorker.Tests.Support;
using Notifications.Testing.Fakes;
using StackExchange.Redis;

namespace Notifications.EmailWorker.Tests.InApp;

/// <summary>The in-app channel end to end through the consumer: Redis pub/sub, and Ably's REST API (faked) when configured.</summary>
[Collection(WorkerTestCollection.Name)]
public sealed class InAppChannelTests(TestServers servers)
{
    [Fact]
    public async Task InAppJob_IsPublishedOnTheUsersChannel_WithTheNotificationAndTheUnreadCount()
    {
        await using var context = await WorkerTestContext.CreateAsync(servers);
        var userId = await context.CreateUserAsync();
        // Two unread, one read, one archived already in the inbox; the one delivered makes three unread.
        await context.CreateJobsAsync(userId, 2, DeliveryChannel.InApp, DeliveryJobStatus.Sent);
        await context.CreateJobsAsync(userId, 1, DeliveryChannel.InApp, DeliveryJobStatus.Sent, notification => notification.ReadAt = DateTimeOffset.UtcNow);
        await context.CreateJobsAsync(userId, 1, DeliveryChannel.InApp, DeliveryJobStatus.Sent, notification => notification.ArchivedAt = DateTimeOffset.UtcNow);
        var job = (await context.CreateJobsAsync(userId, 1, DeliveryChannel.InApp)).Single();
        var received = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        await context.Multiplexer.GetSubscriber().SubscribeAsync(RedisKeys.UserEvents(userId), (_, message) => received.TrySetResult(message!));
        await context.StartWorkerAsync(inAppChannel: true);

        await context.AppendAsync(job);

        var message = InAppMessage.FromJson(await received.Task.WaitAsync(TimeSpan.FromSeconds(60), WorkerTestContext.Cancellation));
        Assert.Equal(job.NotificationId, message.Id);
        Assert.Equal(("comment.created", "social", "normal", "Title 0", "Body 0"), (message.Type, message.Category, message.Priority, message.Title, message.Body));
        Assert.Equal("/posts/42", message.Data.GetProperty("url").GetString());
        Assert.Equal(3, message.UnreadCount);
        await context.WaitForStatusAsync([job.Id], DeliveryJobStatus.Sent);
        var log = Assert.Single(await context.LogsAsync(job.Id));
        Assert.Equal((DeliveryChannel.InApp, InAppDeliverer.RedisProvider, DeliveryOutcome.Sent), (log.Channel, log.Provider, log.Outcome));
        await context.WaitUntilConsumedAsync(DeliveryChannel.InApp);
    }

    [Fact]
    public async Task ArchivedBeforeItWasPushed_IsSkipped()
    {
        await using var context = await WorkerTestContext.CreateAsync(servers);
        var job = (await context.CreateJobsAsync(await context.CreateUserAsync(), 1, DeliveryChannel.InApp,
            adjustNotification: notification => notification.ArchivedAt = DateTimeOffset.UtcNow)).Single();
        await context.StartWorkerAsync(inAppChannel: true);

        await context.AppendAsync(job);

        await context.WaitForStatusAsync([job.Id], DeliveryJobStatus.Cancelled);
        Assert.Equal(DeliveryOutcome.Skipped, Assert.Single(await context.LogsAsync(job.Id)).Outcome);
    }

    [Fact]
    public async Task WithAbly_TheMessageIsAlsoPublishedToAbly_WithBasicAuthOnTheUsersChannel()
    {
        await using var context = await WorkerTestContext.CreateAsync(servers);
        await using var ably = await FakeAblyServer.StartNewAsync();
        var userId = await context.CreateUserAsync();
        var job = (await context.CreateJobsAsync(userId, 1, DeliveryChannel.InApp)).Single();
        await context.StartWorkerAsync(settings: AblySettings(ably), inAppChannel: true);

        await context.AppendAsync(job);

        await context.WaitForStatusAsync([job.Id], DeliveryJobStatus.Sent);
        var request = Assert.Single(ably.Requests);
        Assert.Equal($"/channels/notifications:{userId}/messages", request.Path);
        Assert.Equal("Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes(FakeAblyServer.DefaultApiKey)), request.Header("Authorization"));
        var published = Assert.Single(ably.Published);
        Assert.Equal((InAppMessage.AblyChannelName(userId), "notification"), (published.Channel, published.Name));
        var message = InAppMessage.FromJson(published.Data.GetRawText());
        Assert.Equal((job.NotificationId, 1), (message.Id, message.UnreadCount));
        var sent = await context.JobAsync(job.Id);
        Assert.Equal("fake-1:0", sent.ProviderMessageId);
        var log = Assert.Single(await context.LogsAsync(job.Id));
        Assert.Equal((AblyPublisher.Provider, 201), (log.Provider, log.HttpStatusCode));
    }

    [Theory]
    [InlineData(429, 42910)]
    [InlineData(500, 50000)]
    public async Task AblyRateLimitOrServerError_IsTransient_AndRetriedNoSoonerThanRetryAfter(int status, int ablyCode)
    {
        await using var context = await WorkerTestContext.CreateAsync(servers);
        await using var ably = await FakeAblyServer.StartNewAsync();
        ably.FailWith(status, TimeSpan.FromSeconds(90));
        var job = (await context.CreateJobsAsync(await context.CreateUserAsync(), 1, DeliveryChannel.InApp)).Single();
        await context.StartWorkerAsync(settings: AblySettings(ably), inAppChannel: true);

        var before = DateTimeOffset.UtcNow;
        await context.AppendAsync(job);

        await context.WaitForStatusAsync([job.Id], DeliveryJobStatus.Pending);
        var pending = await context.JobAsync(job.Id);
        Assert.True(pending.ScheduledFor >= before.AddSeconds(90), $"Retry due {pending.ScheduledFor:O}, before Retry-After.");
        var log = Assert.Single(await context.LogsAsync(job.Id));
        Assert.Equal((DeliveryOutcome.TransientFailure, AblyPublisher.Provider, status), (log.Outcome, log.Provider, log.HttpStatusCode));
        Assert.Contains($"error {ablyCode}", log.Error);
        Assert.Contains($"\"code\":{ablyCode}", log.ResponseExcerpt);
        Assert.Single(await context.OutboxRowsAsync(job.Id));
    }

    [Fact]
    public async Task AblyRejectingTheKey_IsPermanent_AndDeadLettersTheJob()
    {
        await using var context = await WorkerTestContext.CreateAsync(servers);
        await using var ably = await FakeAblyServer.StartNewAsync();
        var job = (await context.CreateJobsAsync(await context.CreateUserAsync(), 1, DeliveryChannel.InApp)).Single();
        var settings = AblySettings(ably);
        settings["Ably:ApiKey"] = "fakeapp.fakekey:wrong-secret";
        await context.StartWorkerAsync(settings: settings, inAppChannel: true);

        await context.AppendAsync(job);

        await context.WaitForStatusAsync([job.Id], DeliveryJobStatus.Failed);
        var deadLetter = Assert.IsType<DeadLetter>(await context.DeadLetterAsync(job.Id));
        Assert.Equal((DeliveryErrorType.Permanent, 401), (deadLetter.ErrorType, deadLetter.HttpStatusCode));
        Assert.Contains("error 40101", deadLetter.ErrorMessage);
        Assert.Empty(ably.Published);
    }

    [Fact]
    public async Task MalformedAblyKey_StopsStartUp_NamingTheSetting()
    {
        var exception = await Assert.ThrowsAsync<Microsoft.Extensions.Options.OptionsValidationException>(() => WorkerHost.StartAsync(
            servers.DatabaseConnectionString, servers.Redis.ConnectionString,
            new Dictionary<string, string?> { ["Ably:ApiKey"] = "no-secret-here" }, inAppChannel: true));

        Assert.Contains("Ably:ApiKey", exception.Message);
        Assert.DoesNotContain("no-secret-here", exception.Message);
    }

    private static Dictionary<string, string?> AblySettings(FakeAblyServer ably) => new()
    {
        ["Ably:ApiKey"] = FakeAblyServer.DefaultApiKey,
        ["Ably:RestUrl"] = ably.BaseUrl.ToString(),
    };
}
