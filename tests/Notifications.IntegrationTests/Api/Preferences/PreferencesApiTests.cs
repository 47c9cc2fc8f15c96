using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Notifications.Api.Problems;
using Notifications.Domain.Model;
using Notifications.IntegrationTests.Api.Security;
using static Notifications.IntegrationTests.Api.ApiTestData;
using static Notifications.IntegrationTests.Api.Security.ProblemAssertions;

namespace Notifications.IntegrationTests.Api.Preferences;

/// <summary><c>/api/notifications/preferences</c> through the real host and database, each test with its own user.</summary>
[Collection(ApiSecurityCollection.Name)]
public sealed class PreferencesApiTests : IAsyncDisposable
{
    private const string Route = "/api/notifications/preferences";

    private static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    private readonly TestServers _servers;
    private readonly DateTimeOffset _now = WholeMillisecondsNow();
    private readonly SecurityApiFactory _api;
    private readonly ApiTestData _data;

    public PreferencesApiTests(TestServers servers)
    {
        _servers = servers;
        _api = new SecurityApiFactory(servers.Redis.ConnectionString, servers.DatabaseConnectionString, timeProvider: new FrozenTimeProvider(_now));
        _data = new ApiTestData(servers.DatabaseConnectionString, _now);
    }

    public ValueTask DisposeAsync() => _api.DisposeAsync();

    [Fact]
    public async Task Get_NewUser_HasEmailOnNoMuteAndNoRules()
    {
        var body = await GetJsonAsync(UserClient(await _data.SeedUserAsync()), Route);

        Assert.True(body.GetProperty("emailEnabled").GetBoolean());
        Assert.Equal(JsonValueKind.Null, body.GetProperty("mutedUntil").ValueKind);
        Assert.Empty(body.GetProperty("rules").EnumerateArray());
    }

    [Fact]
    public async Task Put_ThenGet_RoundTripsTheWholeSetAndReplacesThePreviousRules()
    {
        var userId = await _data.SeedUserAsync();
        var client = UserClient(userId);
        await PutAsync(client, new
        {
            emailEnabled = true,
            mutedUntil = (string?)null,
            rules = new object[] { new { scope = "type", key = "old.rule", channel = "email", enabled = false } },
        });

        var put = await PutAsync(client, new
        {
            emailEnabled = false,
            mutedUntil = "2030-01-02T03:04:05+02:00",
            rules = new object[]
            {
                new { scope = "type", key = "comment.created", channel = "in_app", enabled = false, deliveryMode = "immediate" },
                new { scope = "category", key = "social", channel = "email", enabled = true, deliveryMode = "digest" },
                new { scope = "category", key = "social", channel = "in_app", enabled = true, deliveryMode = (string?)null },
            },
        });
        var get = await GetJsonAsync(client, Route);

        Assert.Equal(put.GetRawText(), get.GetRawText());
        Assert.False(get.GetProperty("emailEnabled").GetBoolean());
        Assert.Equal(new DateTimeOffset(2030, 1, 2, 1, 4, 5, TimeSpan.Zero), get.GetProperty("mutedUntil").GetDateTimeOffset());
        Assert.Equal(
            ["category/social/email/True/digest", "category/social/in_app/True/immediate", "type/comment.created/in_app/False/immediate"],
            get.GetProperty("rules").EnumerateArray().Select(rule =>
                $"{rule.GetProperty("scope")}/{rule.GetProperty("key")}/{rule.GetProperty("channel")}/{rule.GetProperty("enabled").GetBoolean()}/{rule.GetProperty("deliveryMode")}"));

        await using var db = TestDatabase.CreateContext(_servers.DatabaseConnectionString);
        var stored = await db.NotificationPreferences.AsNoTracking().Where(rule => rule.UserId == userId).ToListAsync(Cancellation);
        Assert.Equal(3, stored.Count);
        Assert.Contains(stored, rule => rule is { Scope: PreferenceScope.Category, ScopeKey: "social", Channel: DeliveryChannel.Email, DeliveryMode: DeliveryMode.Digest });
        Assert.All(stored, rule => Assert.Equal(_now, rule.UpdatedAt));
        var user = await db.Users.AsNoTracking().SingleAsync(found => found.Id == userId, Cancellation);
        Assert.False(user.EmailEnabled);
        Assert.Equal(_now, user.UpdatedAt);
    }

    [Fact]
    public async Task Put_EmptyRulesAndNoMute_ClearsEverything()
    {
        var userId = await _data.SeedUserAsync();
        var client = UserClient(userId);
        await PutAsync(client, new
        {
            emailEnabled = true,
            mutedUntil = "2030-01-01T00:00:00Z",
            rules = new object[] { new { scope = "category", key = "social", channel = "email" } },
        });

        var body = await PutAsync(client, new { emailEnabled = true, mutedUntil = (string?)null, rules = Array.Empty<object>() });

        Assert.Equal(JsonValueKind.Null, body.GetProperty("mutedUntil").ValueKind);
        Assert.Empty((await GetJsonAsync(client, Route)).GetProperty("rules").EnumerateArray());
    }

    [Theory]
    [InlineData("""{"mutedUntil":null,"rules":[]}""", "emailEnabled")]
    [InlineData("""{"emailEnabled":true}""", "rules")]
    [InlineData("""{"emailEnabled":"yes","rules":[]}""", "emailEnabled")]
    [InlineData("""{"emailEnabled":true,"mutedUntil":"tomorrow","rules":[]}""", "mutedUntil")]
    [InlineData("""{"emailEnabled":true,"mutedUntil":"2030-01-01T00:00:00","rules":[]}""", "mutedUntil")]
    [InlineData("""{"emailEnabled":true,"mutedUntil":"2030-13-01T00:00:00Z","rules":[]}""", "mutedUntil")]
    [InlineData("""{"emailEnabled":true,"rules":[null]}""", "rules[0]")]
    [InlineData("""{"emailEnabled":true,"rules":[{"scope":"type","key":"a","channel":"email"},{"scope":"user","key":"a","channel":"email"}]}""", "rules[1].scope")]
    [InlineData("""{"emailEnabled":true,"rules":[{"scope":"type","key":"","channel":"email"}]}""", "rules[0].key")]
    [InlineData("""{"emailEnabled":true,"rules":[{"scope":"type","key":"  ","channel":"email"}]}""", "rules[0].key")]
    [InlineData("""{"emailEnabled":true,"rules":[{"scope":"type","key":"a\u0000b","channel":"email"}]}""", "rules[0].key")]
    [InlineData("""{"emailEnabled":true,"rules":[{"scope":"type","channel":"email"}]}""", "rules[0].key")]
    [InlineData("""{"emailEnabled":true,"rules":[{"scope":"type","key":"a","channel":"sms"}]}""", "rules[0].channel")]
    [InlineData("""{"emailEnabled":true,"rules":[{"scope":"type","key":"a","channel":"In_App"}]}""", "rules[0].channel")]
    [InlineData("""{"emailEnabled":true,"rules":[{"scope":"type","key":"a","channel":"email","deliveryMode":"weekly"}]}""", "rules[0].deliveryMode")]
    [InlineData("""{"emailEnabled":true,"rules":[{"scope":"type","key":"a","channel":"in_app","deliveryMode":"digest"}]}""", "rules[0].deliveryMode")]
    [InlineData("""{"emailEnabled":true,"rules":[{"scope":"type","key":"a","channel":"email"},{"scope":"type","key":"a","channel":"email","enabled":false}]}""", "rules[1]")]
    [InlineData("""{"emailEnabled":true,"rules":[{"scope":"type","key":"a","channel":"email","enabled":"no"}]}""", "rules[0].enabled")]
    public async Task Put_BadField_Returns400NamingItAndChangesNothing(string body, string field)
    {
        var userId = await _data.SeedUserAsync();
        var client = UserClient(userId);
        var before = await PutAsync(client, new
        {
            emailEnabled = true,
            mutedUntil = (string?)null,
            rules = new object[] { new { scope = "category", key = "social", channel = "email", deliveryMode = "digest" } },
        });

        var response = await client.PutAsync(Route, new StringContent(body, Encoding.UTF8, "application/json"), Cancellation);

        var problem = await AssertProblemAsync(response, HttpStatusCode.BadRequest, ProblemTypes.Validation);
        Assert.Equal([field], ErrorFields(problem));
        Assert.Equal(before.GetRawText(), (await GetJsonAsync(client, Route)).GetRawText());
    }

    [Fact]
    public async Task Put_KeyTooLongAndTooManyRules_Return400NamingTheField()
    {
        var client = UserClient(await _data.SeedUserAsync());

        var longKey = await client.PutAsJsonAsync(Route, new
        {
            emailEnabled = true,
            rules = new object[] { new { scope = "type", key = new string('k', 101), channel = "email" } },
        }, Cancellation);
        var tooMany = await client.PutAsJsonAsync(Route, new
        {
            emailEnabled = true,
            rules = Enumerable.Range(0, 501).Select(i => new { scope = "type", key = $"type.{i}", channel = "email" }).ToArray(),
        }, Cancellation);

        Assert.Equal(["rules[0].key"], ErrorFields(await AssertProblemAsync(longKey, HttpStatusCode.BadRequest, ProblemTypes.Validation)));
        Assert.Equal(["rules"], ErrorFields(await AssertProblemAsync(tooMany, HttpStatusCode.BadRequest, ProblemTypes.Validation)));
    }

    [Fact]
    public async Task Put_SeveralBadRules_NamesEveryField()
    {
        var response = await UserClient(await _data.SeedUserAsync()).PutAsJsonAsync(Route, new
        {
            emailEnabled = true,
            rules = new object[]
            {
                new { scope = "type", key = "fine", channel = "email" },
                new { scope = "type", key = "fine", channel = "push" },
                new { scope = "group", key = "x", channel = "email" },
                new { scope = "category", key = "social", channel = "in_app", deliveryMode = "digest" },
            },
        }, Cancellation);

        var problem = await AssertProblemAsync(response, HttpStatusCode.BadRequest, ProblemTypes.Validation);
        Assert.Equal(["rules[1].channel", "rules[2].scope", "rules[3].deliveryMode"], ErrorFields(problem).Order());
    }

    [Fact]
    public async Task GetAndPut_UnregisteredUser_Return404SayingSo()
    {
        var client = UserClient($"unregistered-{Guid.NewGuid():N}");

        var get = await AssertProblemAsync(await client.GetAsync(Route, Cancellation), HttpStatusCode.NotFound, ProblemTypes.NotFound);
        var put = await AssertProblemAsync(
            await client.PutAsJsonAsync(Route, new { emailEnabled = true, rules = Array.Empty<object>() }, Cancellation),
            HttpStatusCode.NotFound, ProblemTypes.NotFound);

        Assert.Contains("not registered", get.GetProperty("detail").GetString());
        Assert.Contains("not registered", put.GetProperty("detail").GetString());
    }

    [Fact]
    public async Task Put_ConcurrentReplacements_LeaveExactlyOneOfTheSets()
    {
        var userId = await _data.SeedUserAsync();
        var client = UserClient(userId);
        object RuleSet(string key) => new
        {
            emailEnabled = true,
            rules = new object[] { new { scope = "type", key, channel = "email" }, new { scope = "type", key, channel = "in_app" } },
        };

        var responses = await Task.WhenAll(Enumerable.Range(0, 6).Select(i => client.PutAsJsonAsync(Route, RuleSet($"type.{i}"), Cancellation)));

        Assert.All(responses, response => Assert.Equal(HttpStatusCode.OK, response.StatusCode));
        var keys = (await GetJsonAsync(client, Route)).GetProperty("rules").EnumerateArray().Select(rule => rule.GetProperty("key").GetString()).ToList();
        Assert.Equal(2, keys.Count);
        Assert.Single(keys.Distinct());
    }

    [Theory]
    [InlineData("GET")]
    [InlineData("PUT")]
    public async Task Routes_WithoutToken_Return401Problem(string method)
    {
        using var request = new HttpRequestMessage(new HttpMethod(method), Route) { Content = JsonContent.Create(new { emailEnabled = true }) };

        await AssertProblemAsync(await _api.CreateClient().SendAsync(request, Cancellation), HttpStatusCode.Unauthorized, ProblemTypes.Unauthorized);
    }

    private HttpClient UserClient(string userId) => _api.CreateClient(_api.IssueToken(userId));

    private static async Task<JsonElement> PutAsync(HttpClient client, object body) =>
        await ReadJsonAsync(await client.PutAsJsonAsync(Route, body, Cancellation), HttpStatusCode.OK);
}
