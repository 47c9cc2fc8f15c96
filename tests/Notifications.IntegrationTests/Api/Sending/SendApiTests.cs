using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Notifications.Api.Problems;
using Notifications.Domain.Messaging;
using Notifications.Domain.Model;
using Notifications.IntegrationTests.Api.Security;
using static Notifications.IntegrationTests.Api.Security.ProblemAssertions;

namespace Notifications.IntegrationTests.Api.Sending;

/// <summary>
/// <c>POST /api/notifications</c> through the real host and database: what is written, how preferences route it, and
/// that a rejected request writes nothing.
/// </summary>
[Collection(ApiSecurityCollection.Name)]
public sealed class SendApiTests(TestServers servers) : IAsyncDisposable
{
    private static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    private readonly SendTestData _data = new(servers.DatabaseConnectionString);
    private readonly SecurityApiFactory _api = new(servers.Redis.ConnectionString, servers.DatabaseConnectionString);

    private HttpClient Producer => field ??= _api.CreateProducerClient();

    public ValueTask DisposeAsync() => _api.DisposeAsync();

    [Fact]
    public async Task Send_RegisteredUser_Returns202WithAQueuedJobPerChannel_AndWritesNotificationJobsAndOutboxRows()
    {
        var userId = await _data.SeedUserAsync();

        var response = await Producer.PostAsJsonAsync("/api/notifications", Request(userId, data: new { commentId = 42 }), Cancellation);

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var body = await ReadJsonAsync(response);
        var notificationId = body.GetProperty("notificationId").GetGuid();
        Assert.Equal(userId, body.GetProperty("userId").GetString());
        Assert.Equal("normal", body.GetProperty("priority").GetString());
        var jobs = body.GetProperty("jobs").EnumerateArray().ToList();
        Assert.Equal(["in_app:queued", "email:queued"], jobs.Select(job => $"{job.GetProperty("channel")}:{job.GetProperty("status")}"));
        Assert.Empty(body.GetProperty("skipped").EnumerateArray());

        await using var db = TestDatabase.CreateContext(servers.DatabaseConnectionString);
        var notification = await db.Notifications.AsNoTracking().SingleAsync(row => row.UserId == userId, Cancellation);
        Assert.Equal(notificationId, notification.Id);
        Assert.Equal("comment.created", notification.Type);
        Assert.Equal("social", notification.Category);
        Assert.Equal("Ada commented", notification.Title);
        Assert.Equal(42, notification.Data.RootElement.GetProperty("commentId").GetInt32());
        var storedJobs = await db.DeliveryJobs.AsNoTracking().Where(job => job.NotificationId == notificationId).ToListAsync(Cancellation);
        Assert.Equal(jobs.Select(job => job.GetProperty("id").GetGuid()).Order(), storedJobs.Select(job => job.Id).Order());
        Assert.All(storedJobs, job => Assert.Equal(DeliveryJobStatus.Queued, job.Status));
        var outbox = await db.OutboxMessages.AsNoTracking().Where(row => storedJobs.Select(job => job.Id).Contains(row.JobId)).ToListAsync(Cancellation);
        Assert.Equal(2, outbox.Count);
        Assert.All(outbox, row =>
        {
            var message = row.ToDeliveryMessage();
            Assert.Equal(notificationId, message.NotificationId);
            Assert.Equal(userId, message.UserId);
            Assert.Equal(row.Channel, message.Channel);
            Assert.Matches("^00-[0-9a-f]{32}-[0-9a-f]{16}-0[01]$", row.TraceParent);
        });
    }

    [Fact]
    public async Task Send_TheRequestsTraceparent_IsTheParentOfTheTraceStoredInTheOutbox()
    {
        var userId = await _data.SeedUserAsync();
        const string traceId = "4bf92f3577b34da6a3ce929d0e0e4736";
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/notifications") { Content = JsonContent.Create(Request(userId)) };
        request.Headers.Add("traceparent", $"00-{traceId}-00f067aa0ba902b7-01");

        var response = await Producer.SendAsync(request, Cancellation);

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var rows = await _data.OutboxRowsOfAsync(userId);
        Assert.All(rows, row => Assert.StartsWith($"00-{traceId}-", row.TraceParent));
    }

    [Fact]
    public async Task Send_UnknownUser_Returns404NamingTheUser_AndWritesNothing()
    {
        var userId = $"ghost-{Guid.NewGuid():N}";

        var response = await Producer.PostAsJsonAsync("/api/notifications", Request(userId), Cancellation);

        var problem = await AssertProblemAsync(response, HttpStatusCode.NotFound, ProblemTypes.NotFound);
        Assert.Equal(userId, problem.GetProperty("userId").GetString());
        Assert.Equal(0, await _data.NotificationCountAsync(userId));
    }

    [Fact]
    public async Task Send_EmailCategoryPreferredAsDigest_CreatesADigestPendingEmailJobWithoutAnOutboxRow()
    {
        var userId = await _data.SeedUserAsync();
        await _data.SeedRuleAsync(userId, PreferenceScope.Category, "social", DeliveryChannel.Email, enabled: true, DeliveryMode.Digest);

        var body = await SendAsync(Request(userId));

        Assert.Equal(["in_app:queued", "email:digest_pending"], JobStates(body));
        var outbox = await _data.OutboxRowsOfAsync(userId);
        Assert.Equal([DeliveryChannel.InApp], outbox.Select(row => row.Channel));
    }

    [Fact]
    public async Task Send_TypeRule_WinsOverTheCategoryRule()
    {
        var userId = await _data.SeedUserAsync();
        await _data.SeedRuleAsync(userId, PreferenceScope.Category, "social", DeliveryChannel.Email, enabled: false, DeliveryMode.Immediate);
        await _data.SeedRuleAsync(userId, PreferenceScope.Type, "comment.created", DeliveryChannel.Email, enabled: true, DeliveryMode.Digest);
        await _data.SeedRuleAsync(userId, PreferenceScope.Category, "social", DeliveryChannel.InApp, enabled: false, DeliveryMode.Immediate);

        var body = await SendAsync(Request(userId));

        Assert.Equal(["email:digest_pending"], JobStates(body));
        Assert.Equal(["in_app:disabled_by_preference"], Skipped(body));
    }

    [Fact]
    public async Task Send_NotDeliveredInApp_StaysOutOfTheUsersInbox()
    {
        var userId = await _data.SeedUserAsync();
        await _data.SeedRuleAsync(userId, PreferenceScope.Category, "marketing", DeliveryChannel.InApp, enabled: false, DeliveryMode.Immediate);
        var inApp = (await SendAsync(Request(userId))).GetProperty("notificationId").GetGuid();
        await SendAsync(Request(userId, category: "marketing"));
        await SendAsync(Request(userId, channels: ["email"]));

        var inbox = await ReadJsonAsync(await _api.CreateClient(_api.IssueToken(userId)).GetAsync("/api/notifications", Cancellation));

        Assert.Equal([inApp], inbox.GetProperty("items").EnumerateArray().Select(item => item.GetProperty("id").GetGuid()));
        Assert.Equal(3, await _data.NotificationCountAsync(userId));
    }

    [Fact]
    public async Task Send_CriticalType_IsImmediateDespiteDigestAndMute_AtCriticalPriority()
    {
        var userId = await _data.SeedUserAsync(mutedUntil: DateTimeOffset.UtcNow.AddDays(1));
        await _data.SeedRuleAsync(userId, PreferenceScope.Category, "security", DeliveryChannel.Email, enabled: true, DeliveryMode.Digest);

        var body = await SendAsync(Request(userId, type: "security.alert", category: "security"));

        Assert.Equal("critical", body.GetProperty("priority").GetString());
        Assert.Equal(["in_app:queued", "email:queued"], JobStates(body));
        await using var db = TestDatabase.CreateContext(servers.DatabaseConnectionString);
        Assert.All(await db.DeliveryJobs.Where(job => job.UserId == userId).ToListAsync(Cancellation),
            job => Assert.Equal(NotificationPriority.Critical, job.Priority));
    }

    [Theory]
    [InlineData("disabled", "email:email_disabled")]
    [InlineData("no-address", "email:no_email_address")]
    [InlineData("muted", "email:muted")]
    public async Task Send_EmailNotPossible_SkipsTheEmailChannelSayingWhy(string situation, string skipped)
    {
        var userId = situation switch
        {
            "disabled" => await _data.SeedUserAsync(emailEnabled: false),
            "no-address" => await _data.SeedUserAsync(email: null),
            _ => await _data.SeedUserAsync(mutedUntil: DateTimeOffset.UtcNow.AddHours(1)),
        };

        var body = await SendAsync(Request(userId));

        Assert.Equal(["in_app:queued"], JobStates(body));
        Assert.Equal([skipped], Skipped(body));
    }

    [Fact]
    public async Task Send_ChannelsOverride_CreatesOnlyTheNamedChannels()
    {
        var userId = await _data.SeedUserAsync();

        var body = await SendAsync(Request(userId, channels: ["email", "email"]));

        Assert.Equal(["email:queued"], JobStates(body));
    }

    public static TheoryData<string, HttpStatusCode, string> BadRequests => new()
    {
        { """{"type":"t","category":"c","title":"x","body":"b"}""", HttpStatusCode.BadRequest, "userId" },
        { """{"userId":"{user}","category":"c","title":"x","body":"b"}""", HttpStatusCode.BadRequest, "type" },
        { """{"userId":"{user}","type":"has space","category":"c","title":"x","body":"b"}""", HttpStatusCode.BadRequest, "type" },
        { """{"userId":"{user}","type":"t","title":"x","body":"b"}""", HttpStatusCode.BadRequest, "category" },
        { """{"userId":"{user}","type":"t","category":"c","body":"b"}""", HttpStatusCode.BadRequest, "title" },
        { """{"userId":"{user}","type":"t","category":"c","title":"{201}","body":"b"}""", HttpStatusCode.BadRequest, "title" },
        { """{"userId":"{user}","type":"t","category":"c","title":"x"}""", HttpStatusCode.BadRequest, "body" },
        { """{"userId":"{user}","type":"t","category":"c","title":"x","body":"{10241}"}""", HttpStatusCode.RequestEntityTooLarge, "body" },
        { """{"userId":"{user}","type":"t","category":"c","title":"x","body":"b","data":{"blob":"{32769}"}}""", HttpStatusCode.RequestEntityTooLarge, "data" },
        { """{"userId":"{user}","type":"t","category":"c","title":"x","body":"b","data":[1,2]}""", HttpStatusCode.BadRequest, "data" },
        { """{"userId":"{user}","type":"t","category":"c","title":"x","body":"b","priority":"urgent"}""", HttpStatusCode.BadRequest, "priority" },
        { """{"userId":"{user}","type":"t","category":"c","title":"x","body":"b","channels":["in_app","sms"]}""", HttpStatusCode.BadRequest, "channels[1]" },
        { """{"userId":"{user}","type":"t","category":"c","title":"x","body":"b","channels":[]}""", HttpStatusCode.BadRequest, "channels" },
        { """{"userId":"{user}","type":"t","category":"c","title":5,"body":"b"}""", HttpStatusCode.BadRequest, "title" },
        { """{"userId":"{user}","type":"t","category":"c","title":"x","body":"b","channels":"email"}""", HttpStatusCode.BadRequest, "channels" },
        { """{"userId":"{user}","type":"t","category":"c","title":"a\u0000b","body":"b"}""", HttpStatusCode.BadRequest, "title" },
        { """{"userId":"{user}","type":"t","category":"c","title":"x","body":"a\u0000"}""", HttpStatusCode.BadRequest, "body" },
        { """{"userId":"{user}","type":"t","category":"c","title":"x","body":"b","data":{"list":[{"k":"\u0000"}]}}""", HttpStatusCode.BadRequest, "data" },
    };

    [Theory]
    [MemberData(nameof(BadRequests))]
    public async Task Send_BadField_ReturnsProblemNamingTheField_AndWritesNothing(string json, HttpStatusCode status, string field)
    {
        var userId = await _data.SeedUserAsync();
        var body = json.Replace("{user}", userId, StringComparison.Ordinal)
            .Replace("{201}", new string('t', 201), StringComparison.Ordinal)
            .Replace("{10241}", new string('b', 10241), StringComparison.Ordinal)
            .Replace("{32769}", new string('d', 32769), StringComparison.Ordinal);

        var response = await Producer.PostAsync("/api/notifications", new StringContent(body, Encoding.UTF8, "application/json"), Cancellation);

        var problem = await AssertProblemAsync(response, status,
            status == HttpStatusCode.BadRequest ? ProblemTypes.Validation : ProblemTypes.PayloadTooLarge);
        Assert.True(problem.GetProperty("errors").TryGetProperty(field, out _), $"The problem names '{field}': {problem}");
        Assert.Equal(0, await _data.NotificationCountAsync(userId));
    }

    [Fact]
    public async Task Send_MalformedJson_Returns400()
    {
        var response = await Producer.PostAsync("/api/notifications", new StringContent("""{"userId": "a",""", Encoding.UTF8, "application/json"), Cancellation);

        var problem = await AssertProblemAsync(response, HttpStatusCode.BadRequest, ProblemTypes.Validation);
        Assert.Contains("not valid JSON", problem.GetProperty("detail").GetString());
    }

    [Fact]
    public async Task Send_BodyOverOneMebibyte_Returns413()
    {
        var userId = await _data.SeedUserAsync();
        var json = JsonSerializer.Serialize(new
        {
            userId, type = "t", category = "c", title = "x", body = "b", data = new { pad = new string('p', 1024 * 1024) },
        });

        var response = await Producer.PostAsync("/api/notifications", new StringContent(json, Encoding.UTF8, "application/json"), Cancellation);

        await AssertProblemAsync(response, HttpStatusCode.RequestEntityTooLarge, ProblemTypes.PayloadTooLarge);
        Assert.Equal(0, await _data.NotificationCountAsync(userId));
    }

    [Fact]
    public async Task Send_NotJson_Returns415()
    {
        var response = await Producer.PostAsync("/api/notifications", new StringContent("userId=a", Encoding.UTF8, "application/x-www-form-urlencoded"), Cancellation);

        await AssertProblemAsync(response, HttpStatusCode.UnsupportedMediaType, ProblemTypes.UnsupportedMediaType);
    }

    [Fact]
    public async Task Send_WithoutProducerScopeOrRole_Returns403_AndWithoutToken401()
    {
        var userId = await _data.SeedUserAsync();
        var user = _api.CreateClient(_api.IssueToken(userId));

        await AssertProblemAsync(await user.PostAsJsonAsync("/api/notifications", Request(userId), Cancellation), HttpStatusCode.Forbidden, ProblemTypes.Forbidden);
        await AssertProblemAsync(await _api.CreateClient().PostAsJsonAsync("/api/notifications", Request(userId), Cancellation), HttpStatusCode.Unauthorized, ProblemTypes.Unauthorized);
        Assert.Equal(0, await _data.NotificationCountAsync(userId));
    }

    [Fact]
    public async Task Send_ProducerRole_IsAccepted()
    {
        var userId = await _data.SeedUserAsync();
        var producer = _api.CreateClient(_api.IssueToken($"service-{Guid.NewGuid():N}", roles: ["producer"]));

        var response = await producer.PostAsJsonAsync("/api/notifications", Request(userId), Cancellation);

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
    }

    private async Task<JsonElement> SendAsync(object request)
    {
        var response = await Producer.PostAsJsonAsync("/api/notifications", request, Cancellation);
        Assert.True(response.StatusCode == HttpStatusCode.Accepted, await response.Content.ReadAsStringAsync(Cancellation));
        return await ReadJsonAsync(response);
    }

    internal static object Request(
        string userId, string type = "comment.created", string category = "social", object? data = null, string[]? channels = null) =>
        new { userId, type, category, title = "Ada commented", body = "Nice work!", data, channels };

    internal static List<string> JobStates(JsonElement body) =>
        [.. body.GetProperty("jobs").EnumerateArray().Select(job => $"{job.GetProperty("channel")}:{job.GetProperty("status")}")];

    internal static List<string> Skipped(JsonElement body) =>
        [.. body.GetProperty("skipped").EnumerateArray().Select(skip => $"{skip.GetProperty("channel")}:{skip.GetProperty("reason")}")];

    internal static async Task<JsonElement> ReadJsonAsync(HttpResponseMessage response) =>
        JsonDocument.Parse(await response.Content.ReadAsStringAsync(Cancellation)).RootElement;
}
