using System.Net;
using System.Net.Http.Json;
using Microsoft.EntityFrameworkCore;
using Notifications.Api.Problems;
using Notifications.IntegrationTests.Api.Security;
using Npgsql;
using static Notifications.IntegrationTests.Api.Security.ProblemAssertions;
using static Notifications.IntegrationTests.Api.Sending.SendApiTests;

namespace Notifications.IntegrationTests.Api.Sending;

/// <summary>
/// Single sends arriving together share a transaction (group commit). Each request must still get its own answer,
/// its own rows and its own trace, and one that Postgres refuses must not take the others down with it.
/// </summary>
[Collection(ApiSecurityCollection.Name)]
public sealed class SingleSendGroupTests(TestServers servers) : IAsyncDisposable
{
    private static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    private readonly SendTestData _data = new(servers.DatabaseConnectionString);
    private readonly SecurityApiFactory _api = new(servers.Redis.ConnectionString, servers.DatabaseConnectionString);

    private HttpClient Producer => field ??= _api.CreateProducerClient();

    public ValueTask DisposeAsync() => _api.DisposeAsync();

    [Fact]
    public async Task ConcurrentSends_EachGetItsOwnAnswerRowsAndTrace_AndUnknownUsersAre404()
    {
        var known = new List<string>();
        for (var index = 0; index < 40; index++)
        {
            known.Add(await _data.SeedUserAsync());
        }
        var unknown = Enumerable.Range(0, 5).Select(_ => $"ghost-{Guid.NewGuid():N}").ToList();
        var traceIds = known.Concat(unknown).ToDictionary(userId => userId, _ => Guid.NewGuid().ToString("N"));

        var responses = await Task.WhenAll(known.Concat(unknown).Select(async userId =>
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "/api/notifications") { Content = JsonContent.Create(Request(userId)) };
            request.Headers.Add("traceparent", $"00-{traceIds[userId]}-00f067aa0ba902b7-01");
            return (UserId: userId, Response: await Producer.SendAsync(request, Cancellation));
        }));

        await using var db = TestDatabase.CreateContext(servers.DatabaseConnectionString);
        var notificationIds = new HashSet<Guid>();
        foreach (var (userId, response) in responses.Where(sent => known.Contains(sent.UserId)))
        {
            Assert.True(response.StatusCode == HttpStatusCode.Accepted, await response.Content.ReadAsStringAsync(Cancellation));
            var body = await ReadJsonAsync(response);
            Assert.Equal(userId, body.GetProperty("userId").GetString());
            var notificationId = body.GetProperty("notificationId").GetGuid();
            Assert.True(notificationIds.Add(notificationId));
            var stored = await db.Notifications.AsNoTracking().SingleAsync(notification => notification.UserId == userId, Cancellation);
            Assert.Equal(notificationId, stored.Id);
            var jobIds = body.GetProperty("jobs").EnumerateArray().Select(job => job.GetProperty("id").GetGuid()).ToHashSet();
            Assert.Equal(jobIds, (await db.DeliveryJobs.AsNoTracking().Where(job => job.UserId == userId).Select(job => job.Id).ToListAsync(Cancellation)).ToHashSet());
            var outbox = await _data.OutboxRowsOfAsync(userId);
            Assert.Equal(jobIds.Count, outbox.Count);
            Assert.All(outbox, row => Assert.StartsWith($"00-{traceIds[userId]}-", row.TraceParent));
        }
        foreach (var (userId, response) in responses.Where(sent => unknown.Contains(sent.UserId)))
        {
            var problem = await AssertProblemAsync(response, HttpStatusCode.NotFound, ProblemTypes.NotFound);
            Assert.Equal(userId, problem.GetProperty("userId").GetString());
        }
    }

    [Fact]
    public async Task ASendPostgresRefuses_FailsAlone_AndTheSendsAroundItAreWritten()
    {
        var refusedTitle = $"refused-{Guid.NewGuid():N}";
        var refusedUser = await _data.SeedUserAsync();
        var others = new List<string>();
        for (var index = 0; index < 20; index++)
        {
            others.Add(await _data.SeedUserAsync());
        }
        var function = $"refuse_{Guid.NewGuid():N}";
        await ExecuteAsync($"""
            CREATE FUNCTION {function}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'refused by the test'; END $$;
            CREATE TRIGGER {function} BEFORE INSERT ON notifications FOR EACH ROW WHEN (NEW.title = '{refusedTitle}') EXECUTE FUNCTION {function}();
            """);
        try
        {
            var refused = Producer.PostAsJsonAsync("/api/notifications",
                new { userId = refusedUser, type = "comment.created", category = "social", title = refusedTitle, body = "b" }, Cancellation);
            var sent = others.Select(userId => Producer.PostAsJsonAsync("/api/notifications", Request(userId), Cancellation)).ToList();

            await AssertProblemAsync(await refused, HttpStatusCode.InternalServerError, ProblemTypes.InternalError);
            foreach (var response in await Task.WhenAll(sent))
            {
                Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
            }
            Assert.Equal(0, await _data.NotificationCountAsync(refusedUser));
            foreach (var userId in others)
            {
                Assert.Equal(1, await _data.NotificationCountAsync(userId));
            }
        }
        finally
        {
            await ExecuteAsync($"DROP TRIGGER {function} ON notifications; DROP FUNCTION {function}();");
        }
    }

    private async Task ExecuteAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(servers.DatabaseConnectionString);
        await connection.OpenAsync(Cancellation);
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync(Cancellation);
    }
}
