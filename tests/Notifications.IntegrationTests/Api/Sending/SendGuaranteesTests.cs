using System.Net;
using System.Net.Http.Json;
using Notifications.Api.Problems;
using Notifications.Api.Sending;
using Notifications.IntegrationTests.Api.Security;
using Npgsql;
using static Notifications.IntegrationTests.Api.Security.ProblemAssertions;
using static Notifications.IntegrationTests.Api.Sending.SendApiTests;

namespace Notifications.IntegrationTests.Api.Sending;

/// <summary>Idempotent retries and the all-or-nothing transaction of the send path.</summary>
[Collection(ApiSecurityCollection.Name)]
public sealed class SendGuaranteesTests(TestServers servers) : IAsyncDisposable
{
    private static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    private readonly SendTestData _data = new(servers.DatabaseConnectionString);
    private readonly string _producerId = $"producer-{Guid.NewGuid():N}";
    private readonly SecurityApiFactory _api = new(servers.Redis.ConnectionString, servers.DatabaseConnectionString);

    private HttpClient Producer => field ??= _api.CreateProducerClient(_producerId);

    public ValueTask DisposeAsync() => _api.DisposeAsync();

    [Fact]
    public async Task Repeat_WithTheSameKeyAndBody_ReplaysTheFirstAnswer_AndWritesOnce()
    {
        var userId = await _data.SeedUserAsync();
        var key = Guid.NewGuid().ToString();

        var first = await PostAsync("/api/notifications", Request(userId), key);
        var second = await PostAsync("/api/notifications", Request(userId), key);

        Assert.Equal(HttpStatusCode.Accepted, first.StatusCode);
        Assert.Equal(HttpStatusCode.Accepted, second.StatusCode);
        Assert.False(first.Headers.Contains("Idempotency-Replay"));
        Assert.Equal("true", Assert.Single(second.Headers.GetValues("Idempotency-Replay")));
        var firstBody = await ReadJsonAsync(first);
        var secondBody = await ReadJsonAsync(second);
        Assert.Equal(firstBody.GetProperty("notificationId").GetGuid(), secondBody.GetProperty("notificationId").GetGuid());
        Assert.Equal(JobStates(firstBody), JobStates(secondBody));
        Assert.Equal(1, await _data.NotificationCountAsync(userId));
    }

    [Fact]
    public async Task Repeat_WithTheSameKeyAndAnotherBody_Returns422_AndWritesNothingMore()
    {
        var userId = await _data.SeedUserAsync();
        var key = Guid.NewGuid().ToString();
        await PostAsync("/api/notifications", Request(userId), key);

        var reused = await PostAsync("/api/notifications", Request(userId, type: "other.type"), key);

        await AssertProblemAsync(reused, HttpStatusCode.UnprocessableEntity, ProblemTypes.IdempotencyConflict);
        Assert.Equal(1, await _data.NotificationCountAsync(userId));
    }

    [Fact]
    public async Task Repeat_WhileTheFirstIsInFlight_Returns409_AndWritesNothing()
    {
        var userId = await _data.SeedUserAsync();
        var key = Guid.NewGuid().ToString();
        // What the first request holds while it runs.
        var lockId = new IdempotencyRequest(_producerId, key, "").LockId;
        await using var connection = new NpgsqlConnection(servers.DatabaseConnectionString);
        await connection.OpenAsync(Cancellation);
        await using (var take = new NpgsqlCommand($"SELECT pg_advisory_lock({lockId})", connection))
        {
            await take.ExecuteNonQueryAsync(Cancellation);
        }

        var whileHeld = await PostAsync("/api/notifications", Request(userId), key);

        await AssertProblemAsync(whileHeld, HttpStatusCode.Conflict, ProblemTypes.IdempotencyInFlight);
        Assert.Equal(0, await _data.NotificationCountAsync(userId));
        await using (var release = new NpgsqlCommand($"SELECT pg_advisory_unlock({lockId})", connection))
        {
            await release.ExecuteNonQueryAsync(Cancellation);
        }
        Assert.Equal(HttpStatusCode.Accepted, (await PostAsync("/api/notifications", Request(userId), key)).StatusCode);
    }

    [Fact]
    public async Task SameKey_FromAnotherProducer_IsAnotherKey()
    {
        var userId = await _data.SeedUserAsync();
        var key = Guid.NewGuid().ToString();
        var other = _api.CreateClient(_api.IssueToken($"producer-{Guid.NewGuid():N}", scopes: ["notifications:send"]));
        await PostAsync("/api/notifications", Request(userId), key);

        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/notifications") { Content = JsonContent.Create(Request(userId)) };
        request.Headers.Add("Idempotency-Key", key);
        var response = await other.SendAsync(request, Cancellation);

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        Assert.False(response.Headers.Contains("Idempotency-Replay"));
        Assert.Equal(2, await _data.NotificationCountAsync(userId));
    }

    [Fact]
    public async Task Send_RejectedForAnUnknownUser_DoesNotUseUpTheKey()
    {
        var ghost = $"ghost-{Guid.NewGuid():N}";
        var key = Guid.NewGuid().ToString();
        await AssertProblemAsync(await PostAsync("/api/notifications", Request(ghost), key), HttpStatusCode.NotFound, ProblemTypes.NotFound);

        await _data.SeedUserAsync(userId: ghost);
        var retried = await PostAsync("/api/notifications", Request(ghost), key);

        Assert.Equal(HttpStatusCode.Accepted, retried.StatusCode);
    }

    [Theory]
    [InlineData("key with spaces")]
    [InlineData("k\u00e9y")]
    public async Task Send_InvalidIdempotencyKey_Returns400NamingTheHeader(string key)
    {
        var userId = await _data.SeedUserAsync();

        var response = await PostAsync("/api/notifications", Request(userId), key);

        var problem = await AssertProblemAsync(response, HttpStatusCode.BadRequest, ProblemTypes.Validation);
        Assert.True(problem.GetProperty("errors").TryGetProperty("Idempotency-Key", out _));
        Assert.Equal(0, await _data.NotificationCountAsync(userId));
    }

    [Fact]
    public async Task Batch_RepeatWithTheSameKey_ReplaysTheFirstAnswer()
    {
        var users = new[] { await _data.SeedUserAsync(), await _data.SeedUserAsync() };
        var key = Guid.NewGuid().ToString();
        var batch = new { userIds = users, type = "digest.weekly", category = "news", title = "Weekly", body = "Hello" };

        var first = await PostAsync("/api/notifications/batch", batch, key);
        var second = await PostAsync("/api/notifications/batch", batch, key);

        Assert.Equal(HttpStatusCode.Accepted, second.StatusCode);
        Assert.Equal("true", Assert.Single(second.Headers.GetValues("Idempotency-Replay")));
        Assert.Equal(NotificationIds(await ReadJsonAsync(first)), NotificationIds(await ReadJsonAsync(second)));
        Assert.Equal(1, await _data.NotificationCountAsync(users[0]));
        Assert.Equal(1, await _data.NotificationCountAsync(users[1]));
    }

    /// <summary>
    /// The database connection dies after the notification and its jobs were inserted but before the outbox rows and
    /// the commit: the client gets a 503 and not one row of the request exists.
    /// </summary>
    [Fact]
    public async Task ConnectionKilledMidTransaction_Returns503_AndNothingIsWritten()
    {
        var database = await TestDatabase.CreateMigratedDatabaseAsync(servers.Postgres);
        await using var api = new SecurityApiFactory(servers.Redis.ConnectionString, database);
        var producer = api.CreateClient(api.IssueToken(_producerId, scopes: ["notifications:send"]));
        var data = new SendTestData(database);
        var userId = await data.SeedUserAsync();
        await using var blocker = new NpgsqlConnection(database);
        await blocker.OpenAsync(Cancellation);
        await using var blocking = await blocker.BeginTransactionAsync(Cancellation);
        // Holds the send's INSERT INTO outbox_messages, after its notification and job inserts, inside its transaction.
        await using (var lockOutbox = new NpgsqlCommand("LOCK TABLE outbox_messages IN SHARE MODE", blocker, blocking))
        {
            await lockOutbox.ExecuteNonQueryAsync(Cancellation);
        }

        var sending = producer.PostAsJsonAsync("/api/notifications", Request(userId), Cancellation);
        var backend = await WaitForBlockedBackendAsync(blocker);
        await using (var kill = new NpgsqlCommand($"SELECT pg_terminate_backend({backend})", blocker, blocking))
        {
            await kill.ExecuteNonQueryAsync(Cancellation);
        }
        await blocking.RollbackAsync(Cancellation);
        var response = await sending;

        var problem = await AssertProblemAsync(response, HttpStatusCode.ServiceUnavailable, ProblemTypes.ServiceUnavailable);
        Assert.Contains("Nothing was written", problem.GetProperty("detail").GetString());
        Assert.Equal(0, await data.NotificationCountAsync(userId));
        await using var db = TestDatabase.CreateContext(database);
        Assert.Equal(0, db.DeliveryJobs.Count(job => job.UserId == userId));
    }

    /// <summary>The backend of the send, waiting for the lock the test holds (the test's database is its own).</summary>
    private static async Task<int> WaitForBlockedBackendAsync(NpgsqlConnection connection)
    {
        var deadline = DateTimeOffset.UtcNow.AddSeconds(30);
        while (true)
        {
            await using var find = new NpgsqlCommand(
                "SELECT pid FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database() AND pid <> pg_backend_pid() LIMIT 1",
                connection);
            if (await find.ExecuteScalarAsync(Cancellation) is int pid)
            {
                return pid;
            }
            Assert.True(DateTimeOffset.UtcNow < deadline, "No send blocked on the outbox within 30 s.");
            await Task.Delay(TimeSpan.FromMilliseconds(20), Cancellation);
        }
    }

    private static List<Guid> NotificationIds(System.Text.Json.JsonElement batch) =>
        [.. batch.GetProperty("results").EnumerateArray().Select(result => result.GetProperty("notificationId").GetGuid())];

    private async Task<HttpResponseMessage> PostAsync(string route, object body, string key)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, route) { Content = JsonContent.Create(body) };
        request.Headers.TryAddWithoutValidation("Idempotency-Key", key);
        return await Producer.SendAsync(request, Cancellation);
    }
}
