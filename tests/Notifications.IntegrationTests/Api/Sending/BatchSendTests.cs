using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Notifications.Api.Problems;
using Notifications.IntegrationTests.Api.Security;
using static Notifications.IntegrationTests.Api.Security.ProblemAssertions;
using static Notifications.IntegrationTests.Api.Sending.SendApiTests;

namespace Notifications.IntegrationTests.Api.Sending;

/// <summary><c>POST /api/notifications/batch</c>: one transaction per request, a result per item.</summary>
[Collection(ApiSecurityCollection.Name)]
public sealed class BatchSendTests(TestServers servers) : IAsyncDisposable
{
    private static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    private readonly SendTestData _data = new(servers.DatabaseConnectionString);
    private readonly SecurityApiFactory _api = new(servers.Redis.ConnectionString, servers.DatabaseConnectionString);

    private HttpClient Producer => field ??= _api.CreateProducerClient();

    public ValueTask DisposeAsync() => _api.DisposeAsync();

    [Fact]
    public async Task OneEventForManyUsers_AcceptsEachRegisteredUser_AndRejectsUnknownOnesByIndex()
    {
        var known = new[] { await _data.SeedUserAsync(), await _data.SeedUserAsync(emailEnabled: false) };
        var ghost = $"ghost-{Guid.NewGuid():N}";

        var body = await SendAsync(new
        {
            userIds = new[] { known[0], ghost, known[1] },
            type = "release.published",
            category = "news",
            title = "Version 2 is out",
            body = "Read the notes.",
        });

        Assert.Equal(2, body.GetProperty("accepted").GetInt32());
        Assert.Equal(1, body.GetProperty("rejected").GetInt32());
        var results = body.GetProperty("results").EnumerateArray().ToList();
        Assert.Equal([0, 1, 2], results.Select(result => result.GetProperty("index").GetInt32()));
        Assert.Equal(["accepted", "rejected", "accepted"], results.Select(result => result.GetProperty("status").GetString()));
        Assert.Contains(ghost, results[1].GetProperty("error").GetString());
        Assert.Equal(["in_app:queued", "email:queued"], JobStates(results[0]));
        Assert.Equal(["in_app:queued"], JobStates(results[2]));
        Assert.Equal(1, await _data.NotificationCountAsync(known[0]));
        Assert.Equal(1, await _data.NotificationCountAsync(known[1]));
        Assert.Equal(0, await _data.NotificationCountAsync(ghost));
    }

    [Fact]
    public async Task SeparateEvents_AreEachWrittenWithTheirOwnFields()
    {
        var first = await _data.SeedUserAsync();
        var second = await _data.SeedUserAsync();

        var body = await SendAsync(new
        {
            notifications = new object[]
            {
                Request(first, type: "comment.created"),
                Request(second, type: "security.alert", category: "security", channels: ["email"]),
            },
        });

        var results = body.GetProperty("results").EnumerateArray().ToList();
        Assert.Equal(["in_app:queued", "email:queued"], JobStates(results[0]));
        Assert.Equal(["email:queued"], JobStates(results[1]));
        await using var db = TestDatabase.CreateContext(servers.DatabaseConnectionString);
        var secondNotification = await db.Notifications.AsNoTracking().SingleAsync(notification => notification.UserId == second, Cancellation);
        Assert.Equal("security.alert", secondNotification.Type);
        Assert.Equal(Domain.Model.NotificationPriority.Critical, secondNotification.Priority);
    }

    [Fact]
    public async Task AThousandRecipients_AreWrittenInOneRequest()
    {
        var users = new List<string>();
        for (var index = 0; index < 1000; index++)
        {
            users.Add($"bulk-{Guid.NewGuid():N}");
        }
        await using (var db = TestDatabase.CreateContext(servers.DatabaseConnectionString))
        {
            var now = DateTimeOffset.UtcNow;
            db.Users.AddRange(users.Select(id => new Domain.Model.User { Id = id, Email = $"{id}@example.test", CreatedAt = now, UpdatedAt = now }));
            await db.SaveChangesAsync(Cancellation);
        }

        var body = await SendAsync(new { userIds = users, type = "bulk.test", category = "news", title = "Hello", body = "Everyone" });

        Assert.Equal(1000, body.GetProperty("accepted").GetInt32());
        await using var check = TestDatabase.CreateContext(servers.DatabaseConnectionString);
        Assert.Equal(2000, await check.DeliveryJobs.CountAsync(job => users.Contains(job.UserId), Cancellation));
    }

    public static TheoryData<string, string> BadBatches => new()
    {
        { """{"type":"t","category":"c","title":"x","body":"b"}""", "userIds" },
        { """{"userIds":["a"],"notifications":[],"type":"t","category":"c","title":"x","body":"b"}""", "notifications" },
        { """{"userIds":[],"type":"t","category":"c","title":"x","body":"b"}""", "userIds" },
        { """{"userIds":["a",""],"type":"t","category":"c","title":"x","body":"b"}""", "userIds[1]" },
        { """{"userIds":["a"],"category":"c","title":"x","body":"b"}""", "type" },
        { """{"notifications":[{"userId":"a","type":"t","category":"c","title":"x","body":"b"},{"userId":"a","type":"t","category":"c","body":"b"}]}""", "notifications[1].title" },
        { """{"notifications":[{"userId":"a","type":"t","category":"c","title":"x","body":"b","channels":["fax"]}]}""", "notifications[0].channels[0]" },
    };

    [Theory]
    [MemberData(nameof(BadBatches))]
    public async Task BadBatch_Returns400NamingTheField(string json, string field)
    {
        var response = await Producer.PostAsync("/api/notifications/batch", new StringContent(json, System.Text.Encoding.UTF8, "application/json"), Cancellation);

        var problem = await AssertProblemAsync(response, HttpStatusCode.BadRequest, ProblemTypes.Validation);
        Assert.True(problem.GetProperty("errors").TryGetProperty(field, out _), $"The problem names '{field}': {problem}");
    }

    [Fact]
    public async Task MoreThanAThousandRecipients_Returns400()
    {
        var userIds = Enumerable.Range(0, 1001).Select(index => $"u{index}").ToArray();

        var response = await Producer.PostAsJsonAsync("/api/notifications/batch",
            new { userIds, type = "t", category = "c", title = "x", body = "b" }, Cancellation);

        var problem = await AssertProblemAsync(response, HttpStatusCode.BadRequest, ProblemTypes.Validation);
        Assert.Contains("1001", problem.GetProperty("errors").GetProperty("userIds")[0].GetString());
    }

    private async Task<JsonElement> SendAsync(object request)
    {
        var response = await Producer.PostAsJsonAsync("/api/notifications/batch", request, Cancellation);
        Assert.True(response.StatusCode == HttpStatusCode.Accepted, await response.Content.ReadAsStringAsync(Cancellation));
        return await ReadJsonAsync(response);
    }
}
