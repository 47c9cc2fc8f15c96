using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Notifications.Api.Problems;
using Notifications.Api.Realtime;
using Notifications.Domain.Messaging;
using Notifications.Domain.Model;
using Notifications.Domain.Redis;
using Notifications.IntegrationTests.Api.Security;
using StackExchange.Redis;
using static Notifications.IntegrationTests.Api.ApiTestData;
using static Notifications.IntegrationTests.Api.Security.ProblemAssertions;

namespace Notifications.IntegrationTests.Api.Realtime;

/// <summary>
/// The event stream, stream tokens and Ably token requests through the real host, Redis and database. Events are
/// published on the users' Redis channels the way the worker publishes them; heartbeats come every 200 ms here.
/// </summary>
[Collection(ApiSecurityCollection.Name)]
public sealed class RealtimeApiTests : IAsyncDisposable
{
    private const string StreamRoute = "/api/notifications/stream";
    private const string AblyKeyName = "appId123.keyId456";
    private const string AblyKeySecret = "not-a-real-ably-secret";

    private static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    private readonly TestServers _servers;
    private readonly DateTimeOffset _now = WholeMillisecondsNow();
    private readonly SecurityApiFactory _api;
    private readonly ApiTestData _data;
    private readonly List<IAsyncDisposable> _disposables = [];

    public RealtimeApiTests(TestServers servers)
    {
        _servers = servers;
        _api = CreateApi();
        _data = new ApiTestData(servers.DatabaseConnectionString, _now);
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var disposable in _disposables)
        {
            await disposable.DisposeAsync();
        }
        await _api.DisposeAsync();
    }

    [Fact]
    public async Task Stream_AnswersAsAnUnbufferedEventStream()
    {
        await using var stream = await OpenStreamAsync(UserClient(await _data.SeedUserAsync()));

        var response = stream.Response;
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("no-cache", response.Headers.CacheControl?.ToString());
        Assert.Equal(["no"], response.Headers.GetValues("X-Accel-Buffering"));
    }

    [Fact]
    public void Stream_IsDescribedAsAnEventStreamForApiDocuments()
    {
        var endpoint = _api.Services.GetRequiredService<EndpointDataSource>().Endpoints
            .Single(candidate => candidate.Metadata.GetMetadata<IEndpointNameMetadata>()?.EndpointName == "OpenNotificationStream");

        var produces = endpoint.Metadata.OfType<IProducesResponseTypeMetadata>().Single(metadata => metadata.StatusCode == 200);
        Assert.Equal(["text/event-stream"], produces.ContentTypes);
    }

    [Fact]
    public async Task Stream_DeliversWhatIsPublishedOnTheCallersChannelAndNotAnotherUsers()
    {
        var userId = await _data.SeedUserAsync();
        var otherUserId = await _data.SeedUserAsync();
        await using var stream = await OpenStreamAsync(UserClient(userId));
        await using var otherStream = await OpenStreamAsync(UserClient(otherUserId));
        var othersMessage = await SeedAndBuildMessageAsync(otherUserId);
        var message = await SeedAndBuildMessageAsync(userId);

        // Published in this order on one connection, so the caller's event would come second if the other's leaked.
        await PublishAsync(otherUserId, othersMessage);
        await PublishAsync(userId, message);

        var frame = await stream.ReadEventAsync();
        Assert.Equal(message.Id.ToString(), frame.Id);
        Assert.Equal("notification", frame.Event);
        var received = InAppMessage.FromJson(frame.Data!);
        Assert.Equal(message.Title, received.Title);
        Assert.Equal(message.UnreadCount, received.UnreadCount);
        Assert.Equal(42, received.Data.GetProperty("postId").GetInt32());
        Assert.Equal(othersMessage.Id.ToString(), (await otherStream.ReadEventAsync()).Id);
    }

    [Fact]
    public async Task Stream_SeveralStreamsOfOneUser_ShareOneRedisSubscriptionThatEndsWithTheLast()
    {
        var userId = await _data.SeedUserAsync();
        var client = UserClient(userId);
        var hub = _api.Services.GetRequiredService<UserEventHub>();
        var first = await OpenStreamAsync(client);
        var second = await OpenStreamAsync(client);

        Assert.Equal(1, await SubscriberCountAsync(userId));
        var message = await SeedAndBuildMessageAsync(userId);
        Assert.Equal(1, await PublishAsync(userId, message));
        Assert.Equal(message.Id.ToString(), (await first.ReadEventAsync()).Id);
        Assert.Equal(message.Id.ToString(), (await second.ReadEventAsync()).Id);

        await first.DisposeAsync();
        await WaitUntilAsync(async () => await SubscriberCountAsync(userId) == 1 && hub.SubscribedUsers >= 1, "the second stream keeps the subscription");
        var next = await SeedAndBuildMessageAsync(userId);
        await PublishAsync(userId, next);
        Assert.Equal(next.Id.ToString(), (await second.ReadEventAsync()).Id);

        await second.DisposeAsync();
        await WaitUntilAsync(async () => await SubscriberCountAsync(userId) == 0, "the last stream's close unsubscribes");
    }

    [Fact]
    public async Task Stream_LastEventId_ReplaysWhatFollowedFromTheInboxThenLiveEventsWithoutDuplicates()
    {
        var userId = await _data.SeedUserAsync();
        var n1 = await _data.SeedNotificationAsync(userId, _now.AddMinutes(-4));
        var n2 = await _data.SeedNotificationAsync(userId, _now.AddMinutes(-3));
        var archived = await _data.SeedNotificationAsync(userId, _now.AddMinutes(-2).AddSeconds(-1), archivedAt: _now);
        var n3 = await _data.SeedNotificationAsync(userId, _now.AddMinutes(-2), readAt: _now);
        var n4 = await _data.SeedNotificationAsync(userId, _now.AddMinutes(-1));
        await _data.SeedNotificationAsync(await _data.SeedUserAsync(), _now.AddMinutes(-1));

        await using var stream = await OpenStreamAsync(UserClient(userId), lastEventId: n2.Id.ToString());
        var replayed = new[] { await stream.ReadEventAsync(), await stream.ReadEventAsync() };

        var names = new Dictionary<string, string>
        {
            [n1.Id.ToString()] = "n1", [n2.Id.ToString()] = "n2", [n3.Id.ToString()] = "n3", [n4.Id.ToString()] = "n4", [archived.Id.ToString()] = "archived",
        };
        Assert.Equal(["n3", "n4"], replayed.Select(frame => names.GetValueOrDefault(frame.Id!, frame.Id!)));
        // n1, n2 and n4 are unread; the archived one does not count.
        Assert.All(replayed, frame => Assert.Equal(3, InAppMessage.FromJson(frame.Data!).UnreadCount));

        // The worker delivering n4 (replayed already) or n2 (the client's last event) late must not show them again;
        // a new notification comes through live.
        await PublishAsync(userId, ToMessage(n4));
        await PublishAsync(userId, ToMessage(n2));
        var n5 = await SeedAndBuildMessageAsync(userId);
        await PublishAsync(userId, n5);
        Assert.Equal(n5.Id.ToString(), (await stream.ReadEventAsync()).Id);
    }

    [Fact]
    public async Task Stream_LastEventIdOfAnotherUser_SendsLiveEventsOnly()
    {
        var userId = await _data.SeedUserAsync();
        await _data.SeedNotificationAsync(userId, _now.AddMinutes(-2));
        var foreign = await _data.SeedNotificationAsync(await _data.SeedUserAsync(), _now.AddMinutes(-3));

        await using var stream = await OpenStreamAsync(UserClient(userId), lastEventId: foreign.Id.ToString());
        var live = await SeedAndBuildMessageAsync(userId);
        await PublishAsync(userId, live);

        Assert.Equal(live.Id.ToString(), (await stream.ReadEventAsync()).Id);
    }

    [Fact]
    public async Task Stream_SendsHeartbeatComments()
    {
        await using var stream = await OpenStreamAsync(UserClient(await _data.SeedUserAsync()));

        var frame = await stream.ReadFrameAsync();

        Assert.NotNull(frame);
        Assert.False(frame.IsEvent);
        Assert.Equal(["heartbeat"], frame.Comments);
    }

    [Fact]
    public async Task Stream_MalformedLastEventId_Returns400NamingTheHeader()
    {
        await using var stream = await OpenStreamAsync(UserClient(await _data.SeedUserAsync()), lastEventId: "not-an-id");

        var problem = await AssertProblemAsync(stream.Response, HttpStatusCode.BadRequest, ProblemTypes.Validation);
        Assert.Equal(["Last-Event-ID"], ErrorFields(problem));
    }

    [Fact]
    public async Task Stream_WithoutToken_Returns401ProblemEvenToAnEventStreamOnlyClient()
    {
        await using var stream = await OpenStreamAsync(_api.CreateClient());

        await AssertProblemAsync(stream.Response, HttpStatusCode.Unauthorized, ProblemTypes.Unauthorized);
    }

    [Fact]
    public async Task StreamToken_OpensTheCallersStreamFromTheQueryString()
    {
        var userId = await _data.SeedUserAsync();
        var issued = await ReadJsonAsync(await UserClient(userId).PostAsync("/api/notifications/stream-token", null, Cancellation), HttpStatusCode.OK);
        var token = issued.GetProperty("accessToken").GetString()!;
        var streamUrl = issued.GetProperty("streamUrl").GetString()!;

        Assert.Equal($"{StreamRoute}?access_token={Uri.EscapeDataString(token)}", streamUrl);
        Assert.InRange(issued.GetProperty("expiresAt").GetDateTimeOffset(), _now.AddMinutes(5).AddSeconds(-1), _now.AddMinutes(5));
        await using var stream = await OpenStreamAsync(_api.CreateClient(), streamUrl);
        Assert.Equal(HttpStatusCode.OK, stream.Response.StatusCode);
        var message = await SeedAndBuildMessageAsync(userId);
        await PublishAsync(userId, message);
        Assert.Equal(message.Id.ToString(), (await stream.ReadEventAsync()).Id);
    }

    [Fact]
    public async Task StreamToken_InTheHeaderOnTheStream_IsAccepted()
    {
        var userId = await _data.SeedUserAsync();
        var token = await IssueStreamTokenAsync(userId);

        await using var stream = await OpenStreamAsync(BearerClient(token));

        Assert.Equal(HttpStatusCode.OK, stream.Response.StatusCode);
    }

    [Theory]
    [InlineData("GET", "/api/notifications")]
    [InlineData("GET", "/api/notifications/unread-count")]
    [InlineData("POST", "/api/notifications/stream-token")]
    [InlineData("GET", "/api/notifications/preferences")]
    [InlineData("GET", "/api/realtime/token")]
    [InlineData("GET", "/api/digest-schedules")]
    [InlineData("GET", "/api/jobs")]
    public async Task StreamToken_AnywhereButTheStream_Returns401(string method, string route)
    {
        var token = await IssueStreamTokenAsync(await _data.SeedUserAsync());

        var inHeader = await BearerClient(token).SendAsync(new HttpRequestMessage(new HttpMethod(method), route), Cancellation);
        var inQuery = await _api.CreateClient().SendAsync(
            new HttpRequestMessage(new HttpMethod(method), $"{route}?access_token={Uri.EscapeDataString(token)}"), Cancellation);

        var problem = await AssertProblemAsync(inHeader, HttpStatusCode.Unauthorized, ProblemTypes.Unauthorized);
        Assert.Contains("stream token", problem.GetProperty("detail").GetString());
        await AssertProblemAsync(inQuery, HttpStatusCode.Unauthorized, ProblemTypes.Unauthorized);
    }

    [Fact]
    public async Task Stream_NormalTokenInTheQueryString_Returns401()
    {
        var token = _api.IssueToken(await _data.SeedUserAsync());

        var response = await _api.CreateClient().GetAsync($"{StreamRoute}?access_token={Uri.EscapeDataString(token)}",
            HttpCompletionOption.ResponseHeadersRead, Cancellation);

        var problem = await AssertProblemAsync(response, HttpStatusCode.Unauthorized, ProblemTypes.Unauthorized);
        Assert.Contains("Only a stream token", problem.GetProperty("detail").GetString());
    }

    [Fact]
    public async Task Stream_RedisDown_KeepsHeartbeatingThenCatchesUpAndReceivesWhenRedisReturns()
    {
        var userId = await _data.SeedUserAsync();
        var client = UserClient(userId);
        await _servers.Redis.StopAsync();
        try
        {
            await using var stream = await OpenStreamAsync(client);
            Assert.Equal(["heartbeat"], (await stream.ReadFrameAsync())?.Comments);
            Assert.Equal(["heartbeat"], (await stream.ReadFrameAsync())?.Comments);
            // Delivered (and published into the void) while Redis was away: the inbox still has it.
            var missed = await _data.SeedNotificationAsync(userId, _now.AddSeconds(1));

            await _servers.Redis.StartAsync();

            Assert.Equal(missed.Id.ToString(), (await stream.ReadEventAsync()).Id);
            var live = await SeedAndBuildMessageAsync(userId, _now.AddSeconds(2));
            await WaitUntilAsync(async () => await PublishAsync(userId, live) > 0, "the stream's subscription is back");
            Assert.Equal(live.Id.ToString(), (await stream.ReadEventAsync()).Id);
        }
        finally
        {
            await _servers.Redis.StartAsync();
        }
    }

    [Fact]
    public async Task Stream_EndsWhenTheHostStops()
    {
        await using var stream = await OpenStreamAsync(UserClient(await _data.SeedUserAsync()));
        // A heartbeat comes only once the stream is placed in the inbox and waiting for events. Stopping earlier
        // races the test server, which (unlike Kestrel) disposes the host without draining in-flight requests.
        Assert.Equal(["heartbeat"], (await stream.ReadFrameAsync())?.Comments);

        _api.Services.GetRequiredService<IHostApplicationLifetime>().StopApplication();

        while (await stream.ReadFrameAsync() is { } frame)
        {
            Assert.False(frame.IsEvent);
        }
    }

    [Fact]
    public async Task AblyToken_NotConfigured_Returns404PointingToTheStream()
    {
        var response = await UserClient(await _data.SeedUserAsync()).GetAsync("/api/realtime/token", Cancellation);

        var problem = await AssertProblemAsync(response, HttpStatusCode.NotFound, ProblemTypes.NotFound);
        Assert.Equal("real-time via Ably is not configured; use /api/notifications/stream", problem.GetProperty("detail").GetString());
    }

    [Fact]
    public async Task AblyToken_Configured_ReturnsATokenRequestSignedWithTheKeyForTheCallersChannelOnly()
    {
        await using var api = CreateApi(new()
        {
            ["Ably:ApiKey"] = $"{AblyKeyName}:{AblyKeySecret}",
            ["Ably:TokenTtl"] = "00:30:00",
        });
        var userId = $"user-{Guid.NewGuid():N}";
        var client = api.CreateClient(api.IssueToken(userId));

        var request = await GetJsonAsync(client, "/api/realtime/token");
        var another = await GetJsonAsync(client, "/api/realtime/token");

        Assert.Equal(AblyKeyName, request.GetProperty("keyName").GetString());
        Assert.Equal(1_800_000, request.GetProperty("ttl").GetInt64());
        Assert.Equal(userId, request.GetProperty("clientId").GetString());
        Assert.Equal(_now.ToUnixTimeMilliseconds(), request.GetProperty("timestamp").GetInt64());
        var capability = JsonDocument.Parse(request.GetProperty("capability").GetString()!).RootElement;
        var channel = Assert.Single(capability.EnumerateObject());
        Assert.Equal($"notifications:{userId}", channel.Name);
        Assert.Equal(["subscribe"], channel.Value.EnumerateArray().Select(operation => operation.GetString()));
        var nonce = request.GetProperty("nonce").GetString()!;
        Assert.True(nonce.Length >= 16, nonce);
        Assert.NotEqual(nonce, another.GetProperty("nonce").GetString());
        var signed = $"{AblyKeyName}\n1800000\n{request.GetProperty("capability").GetString()}\n{userId}\n{_now.ToUnixTimeMilliseconds()}\n{nonce}\n";
        var expectedMac = Convert.ToBase64String(HMACSHA256.HashData(Encoding.UTF8.GetBytes(AblyKeySecret), Encoding.UTF8.GetBytes(signed)));
        Assert.Equal(expectedMac, request.GetProperty("mac").GetString());
        Assert.DoesNotContain(AblyKeySecret, request.GetRawText());
    }

    private SecurityApiFactory CreateApi(Dictionary<string, string>? settings = null)
    {
        settings ??= [];
        settings["Realtime:HeartbeatInterval"] = "00:00:00.200";
        return new SecurityApiFactory(_servers.Redis.ConnectionString, _servers.DatabaseConnectionString,
            settings: settings, timeProvider: new FrozenTimeProvider(_now));
    }

    private HttpClient UserClient(string userId) => _api.CreateClient(_api.IssueToken(userId));

    private HttpClient BearerClient(string token)
    {
        var client = _api.CreateClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return client;
    }

    private async Task<string> IssueStreamTokenAsync(string userId) =>
        (await ReadJsonAsync(await UserClient(userId).PostAsync("/api/notifications/stream-token", null, Cancellation), HttpStatusCode.OK))
        .GetProperty("accessToken").GetString()!;

    private async Task<EventStreamClient> OpenStreamAsync(HttpClient client, string route = StreamRoute, string? lastEventId = null)
    {
        var stream = await EventStreamClient.OpenAsync(client, route, lastEventId);
        _disposables.Add(stream);
        return stream;
    }

    /// <summary>What the worker does: the notification is in the inbox before its in-app event is published.</summary>
    private async Task<InAppMessage> SeedAndBuildMessageAsync(string userId, DateTimeOffset? createdAt = null) =>
        ToMessage(await _data.SeedNotificationAsync(userId, createdAt ?? _now));

    private static InAppMessage ToMessage(Notification notification) => new(
        notification.Id, notification.Type, notification.Category, "high", notification.Title, notification.Body,
        notification.Data.RootElement, notification.CreatedAt, UnreadCount: 7);

    private async Task<long> PublishAsync(string userId, InAppMessage message)
    {
        var redis = await RedisAsync();
        return await redis.GetSubscriber().PublishAsync(
            new RedisChannel(RedisKeys.UserEvents(userId), RedisChannel.PatternMode.Literal), message.ToJson());
    }

    /// <summary>Redis clients subscribed to the user's channel: one per API process, however many streams it serves.</summary>
    private async Task<long> SubscriberCountAsync(string userId)
    {
        var redis = await RedisAsync();
        var reply = (RedisResult[])(await redis.GetDatabase().ExecuteAsync("PUBSUB", "NUMSUB", RedisKeys.UserEvents(userId)))!;
        return (long)reply[1];
    }

    private ConnectionMultiplexer? _redis;

    private async Task<ConnectionMultiplexer> RedisAsync()
    {
        if (_redis is null)
        {
            var options = ConfigurationOptions.Parse(_servers.Redis.ConnectionString);
            options.AbortOnConnectFail = false;
            _redis = await ConnectionMultiplexer.ConnectAsync(options);
            _disposables.Add(new RedisDisposer(_redis));
        }
        return _redis;
    }

    private static async Task WaitUntilAsync(Func<Task<bool>> condition, string what)
    {
        var deadline = DateTime.UtcNow + EventStreamClient.Deadline;
        while (true)
        {
            try
            {
                if (await condition())
                {
                    return;
                }
            }
            catch (RedisException) when (DateTime.UtcNow < deadline)
            {
                // Still reconnecting.
            }
            Assert.True(DateTime.UtcNow < deadline, $"Timed out waiting until {what}.");
            await Task.Delay(50, Cancellation);
        }
    }

    private sealed class RedisDisposer(ConnectionMultiplexer redis) : IAsyncDisposable
    {
        public ValueTask DisposeAsync()
        {
            redis.Dispose();
            return ValueTask.CompletedTask;
        }
    }
}
