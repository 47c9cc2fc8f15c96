using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Notifications.Api.Problems;
using Notifications.Api.Security;
using Notifications.Domain.Model;
using Notifications.IntegrationTests.Api.Security;
using static Notifications.IntegrationTests.Api.ApiTestData;
using static Notifications.IntegrationTests.Api.Security.ProblemAssertions;

namespace Notifications.IntegrationTests.Api.DigestSchedules;

/// <summary>
/// <c>/api/digest-schedules</c> through the real host and database. The host's clock stands still on Saturday
/// 29 March 2025, 12:00 UTC, the day before Europe/Berlin springs forward (30 March, 02:00 → 03:00), so next-due
/// instants are exact and cross a daylight-saving change.
/// </summary>
[Collection(ApiSecurityCollection.Name)]
public sealed class DigestSchedulesApiTests : IAsyncDisposable
{
    private const string Route = "/api/digest-schedules";

    private static readonly DateTimeOffset Now = new(2025, 3, 29, 12, 0, 0, TimeSpan.Zero);

    private static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    private readonly TestServers _servers;
    private readonly SecurityApiFactory _api;
    private readonly ApiTestData _data;

    public DigestSchedulesApiTests(TestServers servers)
    {
        _servers = servers;
        _api = new SecurityApiFactory(servers.Redis.ConnectionString, servers.DatabaseConnectionString, timeProvider: new FrozenTimeProvider(Now));
        _data = new ApiTestData(servers.DatabaseConnectionString, Now);
    }

    public ValueTask DisposeAsync() => _api.DisposeAsync();

    [Fact]
    public async Task Create_Returns201WithLocationAndStoresTheScheduleWithNextDueAcrossTheDstChange()
    {
        var userId = await _data.SeedUserAsync();
        var client = UserClient(userId);

        var response = await client.PostAsJsonAsync(Route, new
        {
            frequency = "daily",
            deliveryTime = "09:00",
            timeZone = "Europe/Berlin",
            includedCategories = new[] { "social", "billing" },
        }, Cancellation);

        var created = await ReadJsonAsync(response, HttpStatusCode.Created);
        var id = created.GetProperty("id").GetGuid();
        Assert.Equal($"{Route}/{id}", response.Headers.Location?.OriginalString);
        Assert.Equal("daily", created.GetProperty("frequency").GetString());
        Assert.Equal("09:00", created.GetProperty("deliveryTime").GetString());
        Assert.Equal(JsonValueKind.Null, created.GetProperty("deliveryDay").ValueKind);
        Assert.Equal(20, created.GetProperty("maxItems").GetInt32());
        Assert.True(created.GetProperty("active").GetBoolean());
        Assert.Equal(["social", "billing"], created.GetProperty("includedCategories").EnumerateArray().Select(category => category.GetString()));
        // 09:00 on 30 March is already summer time in Berlin (UTC+2), so 07:00 UTC, not 08:00.
        Assert.Equal(new DateTimeOffset(2025, 3, 30, 7, 0, 0, TimeSpan.Zero), created.GetProperty("nextDueAt").GetDateTimeOffset());
        Assert.Equal(created.GetRawText(), (await GetJsonAsync(client, $"{Route}/{id}")).GetRawText());

        await using var db = TestDatabase.CreateContext(_servers.DatabaseConnectionString);
        var stored = await db.DigestSchedules.AsNoTracking().SingleAsync(schedule => schedule.Id == id, Cancellation);
        Assert.Equal(userId, stored.UserId);
        Assert.Equal(new DateTimeOffset(2025, 3, 30, 7, 0, 0, TimeSpan.Zero), stored.NextDueAt);
        Assert.Equal(Now, stored.CreatedAt);
    }

    [Fact]
    public async Task Create_TimeInTheSpringGap_IsDueAfterTheGapThatDay()
    {
        var client = UserClient(await _data.SeedUserAsync());

        var created = await ReadJsonAsync(await client.PostAsJsonAsync(Route, new
        {
            frequency = "weekly",
            deliveryDay = 7,
            deliveryTime = "02:30",
            timeZone = "Europe/Berlin",
            maxItems = 5,
        }, Cancellation), HttpStatusCode.Created);

        // Sunday 30 March 02:30 does not exist in Berlin; it is read with the winter offset, i.e. 03:30 CEST = 01:30 UTC.
        Assert.Equal(new DateTimeOffset(2025, 3, 30, 1, 30, 0, TimeSpan.Zero), created.GetProperty("nextDueAt").GetDateTimeOffset());
        Assert.Equal(7, created.GetProperty("deliveryDay").GetInt32());
        Assert.Equal(5, created.GetProperty("maxItems").GetInt32());
    }

    [Fact]
    public async Task Update_ReplacesEveryFieldAndRecomputesNextDue()
    {
        var client = UserClient(await _data.SeedUserAsync());
        var id = await CreateAsync(client, new { frequency = "daily", deliveryTime = "09:00", timeZone = "Europe/Berlin", includedCategories = new[] { "social" } });

        var updated = await ReadJsonAsync(await client.PutAsJsonAsync($"{Route}/{id}", new
        {
            frequency = "monthly",
            deliveryDay = 31,
            deliveryTime = "18:30:15",
            timeZone = "America/New_York",
            maxItems = 100,
            active = false,
        }, Cancellation), HttpStatusCode.OK);

        Assert.Equal("monthly", updated.GetProperty("frequency").GetString());
        Assert.Equal(31, updated.GetProperty("deliveryDay").GetInt32());
        Assert.Equal("18:30:15", updated.GetProperty("deliveryTime").GetString());
        Assert.Equal("America/New_York", updated.GetProperty("timeZone").GetString());
        Assert.False(updated.GetProperty("active").GetBoolean());
        Assert.Empty(updated.GetProperty("includedCategories").EnumerateArray());
        // 31 March 2025, 18:30:15 EDT (UTC-4).
        Assert.Equal(new DateTimeOffset(2025, 3, 31, 22, 30, 15, TimeSpan.Zero), updated.GetProperty("nextDueAt").GetDateTimeOffset());
        Assert.Equal(updated.GetRawText(), (await GetJsonAsync(client, $"{Route}/{id}")).GetRawText());
    }

    [Fact]
    public async Task List_ReturnsOnlyTheCallersSchedules()
    {
        var client = UserClient(await _data.SeedUserAsync());
        var first = await CreateAsync(client, new { frequency = "daily", deliveryTime = "08:00", timeZone = "UTC" });
        var second = await CreateAsync(client, new { frequency = "weekly", deliveryDay = 1, deliveryTime = "08:00", timeZone = "Asia/Tokyo" });
        await CreateAsync(UserClient(await _data.SeedUserAsync()), new { frequency = "daily", deliveryTime = "08:00", timeZone = "UTC" });

        var list = await GetJsonAsync(client, Route);

        Assert.Equal([first, second], list.EnumerateArray().Select(schedule => schedule.GetProperty("id").GetGuid()).Order());
    }

    [Fact]
    public async Task Delete_RemovesTheSchedule()
    {
        var client = UserClient(await _data.SeedUserAsync());
        var id = await CreateAsync(client, new { frequency = "daily", deliveryTime = "08:00", timeZone = "UTC" });

        Assert.Equal(HttpStatusCode.NoContent, (await client.DeleteAsync($"{Route}/{id}", Cancellation)).StatusCode);

        await AssertProblemAsync(await client.GetAsync($"{Route}/{id}", Cancellation), HttpStatusCode.NotFound, ProblemTypes.NotFound);
        Assert.Empty((await GetJsonAsync(client, Route)).EnumerateArray());
    }

    [Fact]
    public async Task ByIdRoutes_AnotherUsersOrUnknownSchedule_Return404AndChangeNothing()
    {
        var owner = UserClient(await _data.SeedUserAsync());
        var id = await CreateAsync(owner, new { frequency = "daily", deliveryTime = "08:00", timeZone = "UTC" });
        var before = (await GetJsonAsync(owner, $"{Route}/{id}")).GetRawText();
        var intruder = UserClient(await _data.SeedUserAsync());
        var replacement = new { frequency = "daily", deliveryTime = "10:00", timeZone = "UTC" };

        foreach (var target in new[] { id, Guid.NewGuid() })
        {
            await AssertProblemAsync(await intruder.GetAsync($"{Route}/{target}", Cancellation), HttpStatusCode.NotFound, ProblemTypes.NotFound);
            await AssertProblemAsync(await intruder.PutAsJsonAsync($"{Route}/{target}", replacement, Cancellation), HttpStatusCode.NotFound, ProblemTypes.NotFound);
            await AssertProblemAsync(await intruder.DeleteAsync($"{Route}/{target}", Cancellation), HttpStatusCode.NotFound, ProblemTypes.NotFound);
        }

        Assert.Equal(before, (await GetJsonAsync(owner, $"{Route}/{id}")).GetRawText());
    }

    [Fact]
    public async Task UnregisteredUser_Gets404SayingSoOnListAndCreate()
    {
        var client = UserClient($"unregistered-{Guid.NewGuid():N}");

        var list = await AssertProblemAsync(await client.GetAsync(Route, Cancellation), HttpStatusCode.NotFound, ProblemTypes.NotFound);
        var create = await AssertProblemAsync(
            await client.PostAsJsonAsync(Route, new { frequency = "daily", deliveryTime = "08:00", timeZone = "UTC" }, Cancellation),
            HttpStatusCode.NotFound, ProblemTypes.NotFound);

        Assert.Contains("not registered", list.GetProperty("detail").GetString());
        Assert.Contains("not registered", create.GetProperty("detail").GetString());
    }

    [Theory]
    [InlineData("""{"frequency":"daily","deliveryTime":"08:00","timeZone":"Mars/Olympus"}""", "timeZone")]
    [InlineData("""{"frequency":"daily","deliveryTime":"08:00","timeZone":"W. Europe Standard Time"}""", "timeZone")]
    [InlineData("""{"frequency":"daily","deliveryTime":"08:00"}""", "timeZone")]
    [InlineData("""{"frequency":"weekly","deliveryDay":8,"deliveryTime":"08:00","timeZone":"UTC"}""", "deliveryDay")]
    [InlineData("""{"frequency":"weekly","deliveryDay":0,"deliveryTime":"08:00","timeZone":"UTC"}""", "deliveryDay")]
    [InlineData("""{"frequency":"monthly","deliveryDay":0,"deliveryTime":"08:00","timeZone":"UTC"}""", "deliveryDay")]
    [InlineData("""{"frequency":"monthly","deliveryDay":32,"deliveryTime":"08:00","timeZone":"UTC"}""", "deliveryDay")]
    [InlineData("""{"frequency":"weekly","deliveryTime":"08:00","timeZone":"UTC"}""", "deliveryDay")]
    [InlineData("""{"frequency":"daily","deliveryDay":1,"deliveryTime":"08:00","timeZone":"UTC"}""", "deliveryDay")]
    [InlineData("""{"frequency":"daily","deliveryTime":"25:00","timeZone":"UTC"}""", "deliveryTime")]
    [InlineData("""{"frequency":"daily","deliveryTime":"8am","timeZone":"UTC"}""", "deliveryTime")]
    [InlineData("""{"frequency":"daily","timeZone":"UTC"}""", "deliveryTime")]
    [InlineData("""{"frequency":"hourly","deliveryTime":"08:00","timeZone":"UTC"}""", "frequency")]
    [InlineData("""{"frequency":"daily","deliveryTime":"08:00","timeZone":"UTC","maxItems":0}""", "maxItems")]
    [InlineData("""{"frequency":"daily","deliveryTime":"08:00","timeZone":"UTC","maxItems":101}""", "maxItems")]
    [InlineData("""{"frequency":"daily","deliveryTime":"08:00","timeZone":"UTC","includedCategories":["a",""]}""", "includedCategories[1]")]
    [InlineData("""{"frequency":"daily","deliveryTime":"08:00","timeZone":"UTC","includedCategories":["a","a"]}""", "includedCategories[1]")]
    [InlineData("""{"frequency":"daily","deliveryTime":"08:00","timeZone":"UTC","includedCategories":["a\u0000"]}""", "includedCategories[0]")]
    [InlineData("""{"frequency":"weekly","deliveryDay":"monday","deliveryTime":"08:00","timeZone":"UTC"}""", "deliveryDay")]
    public async Task CreateAndUpdate_BadField_Return400NamingItAndWriteNothing(string body, string field)
    {
        var client = UserClient(await _data.SeedUserAsync());
        var id = await CreateAsync(client, new { frequency = "daily", deliveryTime = "08:00", timeZone = "UTC" });
        var before = (await GetJsonAsync(client, $"{Route}/{id}")).GetRawText();

        var created = await client.PostAsync(Route, Json(body), Cancellation);
        var updated = await client.PutAsync($"{Route}/{id}", Json(body), Cancellation);

        Assert.Equal([field], ErrorFields(await AssertProblemAsync(created, HttpStatusCode.BadRequest, ProblemTypes.Validation)));
        Assert.Equal([field], ErrorFields(await AssertProblemAsync(updated, HttpStatusCode.BadRequest, ProblemTypes.Validation)));
        Assert.Single((await GetJsonAsync(client, Route)).EnumerateArray());
        Assert.Equal(before, (await GetJsonAsync(client, $"{Route}/{id}")).GetRawText());
    }

    [Fact]
    public async Task Create_PastTheLimitPerUser_Returns409()
    {
        var client = UserClient(await _data.SeedUserAsync());
        for (var i = 0; i < Notifications.Api.Apis.DigestSchedulesApi.MaximumSchedulesPerUser; i++)
        {
            await CreateAsync(client, new { frequency = "daily", deliveryTime = $"{i:00}:00", timeZone = "UTC" });
        }

        var response = await client.PostAsJsonAsync(Route, new { frequency = "daily", deliveryTime = "23:30", timeZone = "UTC" }, Cancellation);

        await AssertProblemAsync(response, HttpStatusCode.Conflict, ProblemTypes.Conflict);
    }

    [Theory]
    [InlineData("GET", Route)]
    [InlineData("POST", Route)]
    [InlineData("GET", Route + "/0198a3c2-0000-7000-8000-000000000000")]
    [InlineData("PUT", Route + "/0198a3c2-0000-7000-8000-000000000000")]
    [InlineData("DELETE", Route + "/0198a3c2-0000-7000-8000-000000000000")]
    public async Task Routes_WithoutToken_Return401Problem(string method, string route)
    {
        using var request = new HttpRequestMessage(new HttpMethod(method), route) { Content = JsonContent.Create(new { frequency = "daily" }) };

        await AssertProblemAsync(await _api.CreateClient().SendAsync(request, Cancellation), HttpStatusCode.Unauthorized, ProblemTypes.Unauthorized);
    }

    /// <summary>
    /// The host's clock is in 2025; a token it signed would be expired by the real clock JwtBearer checks against, so
    /// tokens here are signed with the host's settings at the real time.
    /// </summary>
    private HttpClient UserClient(string userId)
    {
        var issuer = new AccessTokenIssuer(_api.Services.GetRequiredService<IOptions<JwtOptions>>(), TimeProvider.System);
        var client = _api.CreateClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", issuer.Issue(userId, [], [], TimeSpan.FromMinutes(5)).AccessToken);
        return client;
    }

    private static async Task<Guid> CreateAsync(HttpClient client, object body) =>
        (await ReadJsonAsync(await client.PostAsJsonAsync(Route, body, Cancellation), HttpStatusCode.Created)).GetProperty("id").GetGuid();

    private static StringContent Json(string body) => new(body, Encoding.UTF8, "application/json");
}
