using System.Net;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Notifications.Api.Problems;
using Notifications.Api.RateLimiting;
using Notifications.Domain.Redis;
using StackExchange.Redis;
using static Notifications.IntegrationTests.Api.Security.ProblemAssertions;

namespace Notifications.IntegrationTests.Api.Security;

[Collection(ApiSecurityCollection.Name)]
public sealed class RateLimitingTests(TestServers servers)
{
    private const int DefaultPermitsPerMinute = 100;

    private static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    // Every host of a test shares one frozen clock, so all its requests fall in the same window whenever it runs.
    private readonly FrozenTimeProvider _clock = new(DateTimeOffset.UtcNow);

    [Fact]
    public async Task UserRoute_RequestAfterTheLimit_Returns429ProblemWithRetryAfterAndRateLimitHeaders()
    {
        await using var api = new SecurityApiFactory(servers.Redis.ConnectionString, servers.DatabaseConnectionString, timeProvider: _clock);
        var client = api.CreateClient(api.IssueToken(NewUserId()));

        for (var request = 1; request <= DefaultPermitsPerMinute; request++)
        {
            var allowed = await client.GetAsync(TestEndpoints.UserRoute, Cancellation);
            Assert.Equal(HttpStatusCode.OK, allowed.StatusCode);
            Assert.Equal("100", Header(allowed, "RateLimit-Limit"));
            Assert.Equal((DefaultPermitsPerMinute - request).ToString(), Header(allowed, "RateLimit-Remaining"));
        }
        var rejected = await client.GetAsync(TestEndpoints.UserRoute, Cancellation);

        await AssertProblemAsync(rejected, HttpStatusCode.TooManyRequests, ProblemTypes.RateLimited);
        var retryAfter = rejected.Headers.RetryAfter?.Delta;
        Assert.NotNull(retryAfter);
        Assert.InRange(retryAfter.Value, TimeSpan.FromSeconds(1), TimeSpan.FromMinutes(1));
        Assert.Equal("100", Header(rejected, "RateLimit-Limit"));
        Assert.Equal("0", Header(rejected, "RateLimit-Remaining"));
        Assert.Equal(((long)retryAfter.Value.TotalSeconds).ToString(), Header(rejected, "RateLimit-Reset"));
    }

    [Fact]
    public async Task TwoApiInstancesSharingRedis_EnforceOneLimitTogether()
    {
        await using var first = new SecurityApiFactory(servers.Redis.ConnectionString, servers.DatabaseConnectionString, timeProvider: _clock);
        await using var second = new SecurityApiFactory(servers.Redis.ConnectionString, servers.DatabaseConnectionString, timeProvider: _clock);
        var token = first.IssueToken(NewUserId());
        HttpClient[] clients = [first.CreateClient(token), second.CreateClient(token)];

        for (var request = 0; request < DefaultPermitsPerMinute; request++)
        {
            var allowed = await clients[request % 2].GetAsync(TestEndpoints.UserRoute, Cancellation);
            Assert.Equal(HttpStatusCode.OK, allowed.StatusCode);
        }

        Assert.Equal(HttpStatusCode.TooManyRequests, (await clients[0].GetAsync(TestEndpoints.UserRoute, Cancellation)).StatusCode);
        Assert.Equal(HttpStatusCode.TooManyRequests, (await clients[1].GetAsync(TestEndpoints.UserRoute, Cancellation)).StatusCode);
    }

    [Fact]
    public async Task ProducerRoute_DrawsOnTheProducerBudget_NotTheUserBudget()
    {
        await using var api = new SecurityApiFactory(servers.Redis.ConnectionString, servers.DatabaseConnectionString, timeProvider: _clock,
            settings: new Dictionary<string, string> { ["RateLimiting:ProducerPermitsPerWindow"] = "2" });
        var caller = NewUserId();
        var producer = api.CreateClient(api.IssueToken(caller, scopes: ["notifications:send"]));

        for (var request = 0; request < 2; request++)
        {
            var allowed = await producer.GetAsync($"/api/users/{caller}", Cancellation);
            Assert.Equal("2", Header(allowed, "RateLimit-Limit"));
        }
        var rejected = await producer.GetAsync($"/api/users/{caller}", Cancellation);
        var userRoute = await producer.GetAsync(TestEndpoints.UserRoute, Cancellation);

        await AssertProblemAsync(rejected, HttpStatusCode.TooManyRequests, ProblemTypes.RateLimited);
        Assert.Equal(HttpStatusCode.OK, userRoute.StatusCode);
        Assert.Equal("100", Header(userRoute, "RateLimit-Limit"));
    }

    [Fact]
    public async Task UserRoute_AnotherUsersExhaustedBudget_DoesNotLimitThisUser()
    {
        var settings = new Dictionary<string, string> { ["RateLimiting:PermitsPerWindow"] = "2" };
        await using var api = new SecurityApiFactory(servers.Redis.ConnectionString, servers.DatabaseConnectionString, settings: settings, timeProvider: _clock);
        var greedy = api.CreateClient(api.IssueToken(NewUserId()));
        for (var request = 0; request < 3; request++)
        {
            await greedy.GetAsync(TestEndpoints.UserRoute, Cancellation);
        }

        var response = await api.CreateClient(api.IssueToken(NewUserId())).GetAsync(TestEndpoints.UserRoute, Cancellation);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("1", Header(response, "RateLimit-Remaining"));
    }

    [Fact]
    public async Task UserRoute_RedisDown_RequestsAreStillAllowedWithoutRateLimitHeaders()
    {
        await using var ownRedis = new RedisServerFixture();
        await ownRedis.InitializeAsync();
        await using var api = new SecurityApiFactory(ownRedis.ConnectionString, servers.DatabaseConnectionString, timeProvider: _clock);
        var client = api.CreateClient(api.IssueToken(NewUserId()));
        Assert.Equal("99", Header(await client.GetAsync(TestEndpoints.UserRoute, Cancellation), "RateLimit-Remaining"));

        await ownRedis.StopAsync();
        var responses = new List<HttpResponseMessage>();
        for (var request = 0; request < 3; request++)
        {
            responses.Add(await client.GetAsync(TestEndpoints.UserRoute, Cancellation));
        }

        Assert.All(responses, response =>
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.False(response.Headers.Contains("RateLimit-Remaining"));
        });
    }

    [Fact]
    public async Task Acquire_ManyConcurrentRequestsOfOnePartition_CountsEachOnceAndAllowsExactlyTheLimit()
    {
        const int requests = 300;
        const int limit = 200;
        using var redis = await ConnectionMultiplexer.ConnectAsync(servers.Redis.ConnectionString);
        var settings = new UserRateLimitOptions { RedisTimeout = TimeSpan.FromMinutes(1) };
        var limiter = new RedisFixedWindowRateLimiter(
            redis.GetDatabase(), Options.Create(settings), _clock, NullLogger<RedisFixedWindowRateLimiter>.Instance);
        var partition = $"producer:{NewUserId()}";

        // Started together, most requests arrive while another's count is in flight and are counted in a shared call.
        var decisions = await Task.WhenAll(Enumerable.Range(0, requests).Select(_ => Task.Run(() => limiter.AcquireAsync(partition, limit))));

        Assert.All(decisions, decision => Assert.NotNull(decision));
        var allowed = decisions.Where(decision => decision!.Value.IsAllowed).ToList();
        Assert.Equal(limit, allowed.Count);
        Assert.Equal(Enumerable.Range(0, limit), allowed.Select(decision => decision!.Value.Remaining).Order());
        var window = FixedWindow.At(_clock.GetUtcNow(), settings.Window);
        Assert.Equal(requests, (long)await redis.GetDatabase().StringGetAsync(RedisKeys.RateLimit(partition, window.Index)));
        Assert.NotNull(await redis.GetDatabase().KeyTimeToLiveAsync(RedisKeys.RateLimit(partition, window.Index)));
    }

    private static string NewUserId() => $"user-{Guid.NewGuid():N}";

    private static string? Header(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out var values) ? string.Join(",", values) : null;
}
