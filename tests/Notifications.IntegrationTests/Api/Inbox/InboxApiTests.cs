using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Notifications.Api.Apis.Inbox;
using Notifications.Api.Problems;
using Notifications.Domain.Model;
using Notifications.IntegrationTests.Api.Security;
using static Notifications.IntegrationTests.Api.ApiTestData;
using static Notifications.IntegrationTests.Api.Security.ProblemAssertions;

namespace Notifications.IntegrationTests.Api.Inbox;

/// <summary>
/// The inbox routes of <c>/api/notifications</c> through the real host and database, each test with its own users;
/// the host's clock stands still at <see cref="_now"/>, so read and seen times are exact.
/// </summary>
[Collection(ApiSecurityCollection.Name)]
public sealed class InboxApiTests : IAsyncDisposable
{
    private static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    private readonly TestServers _servers;
    private readonly DateTimeOffset _now = WholeMillisecondsNow();
    private readonly SecurityApiFactory _api;
    private readonly ApiTestData _data;

    public InboxApiTests(TestServers servers)
    {
        _servers = servers;
        _api = new SecurityApiFactory(servers.Redis.ConnectionString, servers.DatabaseConnectionString, timeProvider: new FrozenTimeProvider(_now));
        _data = new ApiTestData(servers.DatabaseConnectionString, _now);
    }

    public ValueTask DisposeAsync() => _api.DisposeAsync();

    [Fact]
    public async Task List_PagesNewestFirstUntilNextCursorIsNull()
    {
        var userId = await _data.SeedUserAsync();
        var seeded = await SeedMinutesAgoAsync(userId, 5, 4, 3, 2, 1);
        await SeedMinutesAgoAsync(await _data.SeedUserAsync(), 1);
        var client = UserClient(userId);

        var (ids, pages) = await ReadAllPagesAsync(client, "/api/notifications?limit=2");

        Assert.Equal(seeded.Select(notification => notification.Id).Reverse(), ids);
        Assert.Equal(3, pages);
    }

    [Fact]
    public async Task List_ItemHasTheNotificationsFieldsWithSnakeCasePriority()
    {
        var userId = await _data.SeedUserAsync();
        var notification = await _data.SeedNotificationAsync(userId, _now.AddMinutes(-1), category: "social");

        var page = await GetJsonAsync(UserClient(userId), "/api/notifications");

        var item = Assert.Single(page.GetProperty("items").EnumerateArray());
        Assert.Equal(notification.Id, item.GetProperty("id").GetGuid());
        Assert.Equal("comment.created", item.GetProperty("type").GetString());
        Assert.Equal("social", item.GetProperty("category").GetString());
        Assert.Equal("high", item.GetProperty("priority").GetString());
        Assert.Equal(notification.Title, item.GetProperty("title").GetString());
        Assert.Equal(42, item.GetProperty("data").GetProperty("postId").GetInt32());
        Assert.Equal(JsonValueKind.Null, item.GetProperty("readAt").ValueKind);
        Assert.Equal(JsonValueKind.Null, item.GetProperty("seenAt").ValueKind);
        Assert.Equal(_now.AddMinutes(-1), item.GetProperty("createdAt").GetDateTimeOffset());
        Assert.Equal(JsonValueKind.Null, page.GetProperty("nextCursor").ValueKind);
    }

    [Fact]
    public async Task List_NewerRowsInsertedBetweenPages_NeitherRepeatNorHideTheOriginalRows()
    {
        var userId = await _data.SeedUserAsync();
        // Two rows share a timestamp, so the id has to break the tie at a page boundary.
        var original = await SeedMinutesAgoAsync(userId, 9, 8, 7, 7, 6, 5, 4);
        var client = UserClient(userId);
        var expected = original.OrderByDescending(InboxPosition.Of).Select(notification => notification.Id).ToList();

        var seen = new List<Guid>();
        string? cursor = null;
        var inserted = 0;
        do
        {
            var page = await GetJsonAsync(client, cursor is null ? "/api/notifications?limit=2" : $"/api/notifications?limit=2&cursor={cursor}");
            seen.AddRange(page.GetProperty("items").EnumerateArray().Select(item => item.GetProperty("id").GetGuid()));
            cursor = page.GetProperty("nextCursor").GetString();
            // A producer keeps sending while the client pages.
            await _data.SeedNotificationAsync(userId, _now.AddSeconds(++inserted));
        }
        while (cursor is not null);

        Assert.Equal(expected, seen);
    }

    [Fact]
    public async Task List_UnreadOnlyAndCategory_Filter()
    {
        var userId = await _data.SeedUserAsync();
        var readSocial = await _data.SeedNotificationAsync(userId, _now.AddMinutes(-4), "social", readAt: _now.AddMinutes(-1));
        var unreadSocial = await _data.SeedNotificationAsync(userId, _now.AddMinutes(-3), "social");
        var unreadBilling = await _data.SeedNotificationAsync(userId, _now.AddMinutes(-2), "billing");
        var readBilling = await _data.SeedNotificationAsync(userId, _now.AddMinutes(-1), "billing", readAt: _now);
        var client = UserClient(userId);

        Assert.Equal([unreadBilling.Id, unreadSocial.Id], await ListIdsAsync(client, "/api/notifications?unreadOnly=true"));
        Assert.Equal([readBilling.Id, unreadBilling.Id, unreadSocial.Id, readSocial.Id], await ListIdsAsync(client, "/api/notifications?unreadOnly=false"));
        Assert.Equal([unreadSocial.Id, readSocial.Id], await ListIdsAsync(client, "/api/notifications?category=social"));
        Assert.Equal([unreadBilling.Id], await ListIdsAsync(client, "/api/notifications?category=billing&unreadOnly=true"));
        var (ids, pages) = await ReadAllPagesAsync(client, "/api/notifications?category=billing&limit=1");
        Assert.Equal([readBilling.Id, unreadBilling.Id], ids);
        Assert.Equal(2, pages);
    }

    [Fact]
    public async Task UnreadCount_CountsOwnUnreadUnarchivedNotifications()
    {
        var userId = await _data.SeedUserAsync();
        await SeedMinutesAgoAsync(userId, 3, 2);
        await _data.SeedNotificationAsync(userId, _now.AddMinutes(-1), readAt: _now);
        await _data.SeedNotificationAsync(userId, _now.AddMinutes(-1), archivedAt: _now);
        await SeedMinutesAgoAsync(await _data.SeedUserAsync(), 1);

        var body = await GetJsonAsync(UserClient(userId), "/api/notifications/unread-count");

        Assert.Equal(2, body.GetProperty("count").GetInt32());
    }

    [Fact]
    public async Task Patch_ReadUnreadAndSeen_UpdateAndReturnTheNotification()
    {
        var userId = await _data.SeedUserAsync();
        var notification = await _data.SeedNotificationAsync(userId, _now.AddMinutes(-1));
        var other = await _data.SeedNotificationAsync(userId, _now.AddMinutes(-2));
        var client = UserClient(userId);

        var read = await PatchAsync(client, notification.Id, new { read = true });
        Assert.Equal(_now, read.GetProperty("readAt").GetDateTimeOffset());
        Assert.Equal(_now, read.GetProperty("seenAt").GetDateTimeOffset());

        var unread = await PatchAsync(client, notification.Id, new { read = false });
        Assert.Equal(JsonValueKind.Null, unread.GetProperty("readAt").ValueKind);
        Assert.Equal(_now, unread.GetProperty("seenAt").GetDateTimeOffset());

        var seen = await PatchAsync(client, other.Id, new { seen = true });
        Assert.Equal(JsonValueKind.Null, seen.GetProperty("readAt").ValueKind);
        Assert.Equal(_now, seen.GetProperty("seenAt").GetDateTimeOffset());

        var stored = await FindAsync(notification.Id);
        Assert.Null(stored.ReadAt);
        Assert.Equal(_now, stored.SeenAt);
        Assert.Equal(_now, (await FindAsync(other.Id)).SeenAt);
    }

    [Fact]
    public async Task Patch_AlreadyRead_KeepsTheFirstReadTime()
    {
        var userId = await _data.SeedUserAsync();
        var firstRead = _now.AddHours(-1);
        var notification = await _data.SeedNotificationAsync(userId, _now.AddHours(-2), readAt: firstRead);

        var body = await PatchAsync(UserClient(userId), notification.Id, new { read = true, seen = true });

        Assert.Equal(firstRead, body.GetProperty("readAt").GetDateTimeOffset());
        Assert.Equal(firstRead, (await FindAsync(notification.Id)).ReadAt);
    }

    [Fact]
    public async Task Patch_ClockFinerThanTheDatabase_ReturnsTheTimesAsStored()
    {
        var clock = new FrozenTimeProvider(_now.AddTicks(1234567));
        await using var api = new SecurityApiFactory(_servers.Redis.ConnectionString, _servers.DatabaseConnectionString, timeProvider: clock);
        var userId = await _data.SeedUserAsync();
        var notification = await _data.SeedNotificationAsync(userId, _now.AddMinutes(-1));

        var patched = await ReadJsonAsync(
            await api.CreateClient(api.IssueToken(userId)).PatchAsJsonAsync($"/api/notifications/{notification.Id}", new { read = true }, Cancellation),
            HttpStatusCode.OK);

        Assert.Equal(_now.AddTicks(1234560), patched.GetProperty("readAt").GetDateTimeOffset());
        Assert.Equal(_now.AddTicks(1234560), (await FindAsync(notification.Id)).ReadAt);
    }

    [Fact]
    public async Task MarkAllRead_MarksOnlyTheCallersUnreadAndSaysHowMany()
    {
        var userId = await _data.SeedUserAsync();
        var otherUser = await _data.SeedUserAsync();
        var earlier = _now.AddHours(-1);
        var unread = await SeedMinutesAgoAsync(userId, 3, 2);
        var alreadyRead = await _data.SeedNotificationAsync(userId, _now.AddMinutes(-1), readAt: earlier);
        var othersUnread = await _data.SeedNotificationAsync(otherUser, _now.AddMinutes(-1));
        var client = UserClient(userId);

        var first = await ReadJsonAsync(await client.PostAsync("/api/notifications/mark-all-read", null, Cancellation), HttpStatusCode.OK);
        var second = await ReadJsonAsync(await client.PostAsync("/api/notifications/mark-all-read", null, Cancellation), HttpStatusCode.OK);

        Assert.Equal(2, first.GetProperty("updated").GetInt32());
        Assert.Equal(0, second.GetProperty("updated").GetInt32());
        foreach (var notification in unread)
        {
            Assert.Equal(_now, (await FindAsync(notification.Id)).ReadAt);
        }
        Assert.Equal(earlier, (await FindAsync(alreadyRead.Id)).ReadAt);
        Assert.Null((await FindAsync(othersUnread.Id)).ReadAt);
        Assert.Equal(0, (await GetJsonAsync(client, "/api/notifications/unread-count")).GetProperty("count").GetInt32());
    }

    [Fact]
    public async Task Delete_ArchivesSoTheNotificationLeavesTheInboxButTheRowStays()
    {
        var userId = await _data.SeedUserAsync();
        var kept = await _data.SeedNotificationAsync(userId, _now.AddMinutes(-2));
        var archived = await _data.SeedNotificationAsync(userId, _now.AddMinutes(-1));
        var client = UserClient(userId);

        var response = await client.DeleteAsync($"/api/notifications/{archived.Id}", Cancellation);

        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        Assert.Equal([kept.Id], await ListIdsAsync(client, "/api/notifications"));
        Assert.Equal(1, (await GetJsonAsync(client, "/api/notifications/unread-count")).GetProperty("count").GetInt32());
        Assert.Equal(_now, (await FindAsync(archived.Id)).ArchivedAt);
        await AssertProblemAsync(await client.DeleteAsync($"/api/notifications/{archived.Id}", Cancellation), HttpStatusCode.NotFound, ProblemTypes.NotFound);
        await AssertProblemAsync(await client.PatchAsJsonAsync($"/api/notifications/{archived.Id}", new { read = true }, Cancellation),
            HttpStatusCode.NotFound, ProblemTypes.NotFound);
    }

    [Fact]
    public async Task ByIdRoutes_AnotherUsersOrUnknownNotification_Return404AndChangeNothing()
    {
        var owner = await _data.SeedUserAsync();
        var notification = await _data.SeedNotificationAsync(owner, _now.AddMinutes(-1));
        var intruder = UserClient(await _data.SeedUserAsync());

        foreach (var id in new[] { notification.Id, Guid.NewGuid() })
        {
            await AssertProblemAsync(await intruder.PatchAsJsonAsync($"/api/notifications/{id}", new { read = true }, Cancellation),
                HttpStatusCode.NotFound, ProblemTypes.NotFound);
            await AssertProblemAsync(await intruder.DeleteAsync($"/api/notifications/{id}", Cancellation), HttpStatusCode.NotFound, ProblemTypes.NotFound);
        }

        var stored = await FindAsync(notification.Id);
        Assert.Null(stored.ReadAt);
        Assert.Null(stored.ArchivedAt);
    }

    [Theory]
    [InlineData("GET", "/api/notifications")]
    [InlineData("GET", "/api/notifications/unread-count")]
    [InlineData("POST", "/api/notifications/mark-all-read")]
    [InlineData("PATCH", "/api/notifications/0198a3c2-0000-7000-8000-000000000000")]
    [InlineData("DELETE", "/api/notifications/0198a3c2-0000-7000-8000-000000000000")]
    public async Task Routes_WithoutToken_Return401Problem(string method, string route)
    {
        using var request = new HttpRequestMessage(new HttpMethod(method), route) { Content = JsonContent.Create(new { read = true }) };

        var response = await _api.CreateClient().SendAsync(request, Cancellation);

        await AssertProblemAsync(response, HttpStatusCode.Unauthorized, ProblemTypes.Unauthorized);
    }

    [Theory]
    [InlineData("/api/notifications?cursor=not-a-cursor", "cursor")]
    [InlineData("/api/notifications?cursor=AgAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "cursor")]
    [InlineData("/api/notifications?cursor=", "cursor")]
    [InlineData("/api/notifications?limit=0", "limit")]
    [InlineData("/api/notifications?limit=101", "limit")]
    [InlineData("/api/notifications?limit=ten", "limit")]
    [InlineData("/api/notifications?limit=-1", "limit")]
    [InlineData("/api/notifications?unreadOnly=maybe", "unreadOnly")]
    [InlineData("/api/notifications?category=", "category")]
    public async Task List_BadQueryParameter_Returns400NamingTheField(string route, string field)
    {
        var response = await UserClient($"user-{Guid.NewGuid():N}").GetAsync(route, Cancellation);

        var problem = await AssertProblemAsync(response, HttpStatusCode.BadRequest, ProblemTypes.Validation);
        Assert.Equal([field], ErrorFields(problem));
    }

    [Theory]
    [InlineData("{}", new[] { "read", "seen" })]
    [InlineData("""{"seen":false}""", new[] { "seen" })]
    [InlineData("""{"read":"yes"}""", new[] { "read" })]
    [InlineData("""{"read":null,"seen":null}""", new[] { "read", "seen" })]
    public async Task Patch_BadBody_Returns400NamingTheField(string body, string[] fields)
    {
        var userId = await _data.SeedUserAsync();
        var notification = await _data.SeedNotificationAsync(userId, _now.AddMinutes(-1));

        var response = await UserClient(userId).PatchAsync($"/api/notifications/{notification.Id}",
            new StringContent(body, System.Text.Encoding.UTF8, "application/json"), Cancellation);

        var problem = await AssertProblemAsync(response, HttpStatusCode.BadRequest, ProblemTypes.Validation);
        Assert.Equal(fields, ErrorFields(problem));
        var stored = await FindAsync(notification.Id);
        Assert.Null(stored.ReadAt);
        Assert.Null(stored.SeenAt);
    }

    private HttpClient UserClient(string userId) => _api.CreateClient(_api.IssueToken(userId));

    private async Task<List<Notification>> SeedMinutesAgoAsync(string userId, params int[] minutesAgo)
    {
        var seeded = new List<Notification>();
        foreach (var minutes in minutesAgo)
        {
            seeded.Add(await _data.SeedNotificationAsync(userId, _now.AddMinutes(-minutes)));
        }
        return seeded;
    }

    private static async Task<(List<Guid> Ids, int Pages)> ReadAllPagesAsync(HttpClient client, string firstPage)
    {
        var ids = new List<Guid>();
        var pages = 0;
        var route = firstPage;
        while (true)
        {
            var page = await GetJsonAsync(client, route);
            pages++;
            ids.AddRange(page.GetProperty("items").EnumerateArray().Select(item => item.GetProperty("id").GetGuid()));
            if (page.GetProperty("nextCursor").GetString() is not { } cursor)
            {
                return (ids, pages);
            }
            route = $"{firstPage}&cursor={cursor}";
        }
    }

    private static async Task<List<Guid>> ListIdsAsync(HttpClient client, string route) =>
        [.. (await GetJsonAsync(client, route)).GetProperty("items").EnumerateArray().Select(item => item.GetProperty("id").GetGuid())];

    private static async Task<JsonElement> PatchAsync(HttpClient client, Guid id, object body) =>
        await ReadJsonAsync(await client.PatchAsJsonAsync($"/api/notifications/{id}", body, Cancellation), HttpStatusCode.OK);

    private async Task<Notification> FindAsync(Guid id)
    {
        await using var db = TestDatabase.CreateContext(_servers.DatabaseConnectionString);
        return await db.Notifications.AsNoTracking().SingleAsync(notification => notification.Id == id, Cancellation);
    }
}
