using System.Net;
using System.Text.Json;
using Notifications.Api.Problems;
using Notifications.Domain.Messaging;
using Notifications.Domain.Model;
using Notifications.Domain.Redis;
using Notifications.Domain.Resilience;
using Notifications.IntegrationTests.Api.Security;
using StackExchange.Redis;
using static Notifications.IntegrationTests.Api.Security.ProblemAssertions;

namespace Notifications.IntegrationTests.Api.Admin;

/// <summary>
/// <c>GET /api/admin/metrics</c> on a database and a Redis of its own, so every count is exactly what the test seeded.
/// </summary>
[Collection(ApiSecurityCollection.Name)]
public sealed class AdminMetricsApiTests(TestServers servers) : IAsyncLifetime
{
    private static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    private readonly RedisServerFixture _redis = new();
    // Tokens are checked against the host's clock, so it stands still at the real time (whole seconds).
    private readonly DateTimeOffset _now = DateTimeOffset.FromUnixTimeSeconds(DateTimeOffset.UtcNow.ToUnixTimeSeconds());
    private string _database = null!;
    private SecurityApiFactory _api = null!;

    public async ValueTask InitializeAsync()
    {
        await _redis.InitializeAsync();
        _database = await TestDatabase.CreateMigratedDatabaseAsync(servers.Postgres);
        _api = new SecurityApiFactory(_redis.ConnectionString, _database, timeProvider: new FrozenTimeProvider(_now),
            settings: new Dictionary<string, string>
            {
                ["Email:Quota:DailyLimit"] = "100",
                ["Email:Quota:MonthlyLimit"] = "3000",
                // The seeded outbox rows must stay where they are.
                ["Outbox:Enabled"] = "false",
            });
    }

    public async ValueTask DisposeAsync()
    {
        await _api.DisposeAsync();
        await _redis.DisposeAsync();
    }

    [Fact]
    public async Task Metrics_ReportJobsOutboxDeadLettersEmailTodayAndQuota()
    {
        await SeedAsync();
        var today = DateOnly.FromDateTime(_now.UtcDateTime);
        using (var redis = await ConnectionMultiplexer.ConnectAsync(_redis.ConnectionString))
        {
            var database = redis.GetDatabase();
            await database.StringSetAsync(RedisKeys.EmailQuotaDay(today), 42);
            await database.StringSetAsync(RedisKeys.EmailQuotaMonth(today), 420);
            await database.ExecuteAsync("XGROUP", "CREATE", DeliveryStreams.For(DeliveryChannel.Email), DeliveryStreams.ConsumerGroup, "0", "MKSTREAM");
            await database.ExecuteAsync("XADD", DeliveryStreams.For(DeliveryChannel.Email), "*", "job_id", Guid.NewGuid().ToString());
            await database.StringSetAsync(RedisKeys.ProviderCircuit("resend"),
                new ProviderCircuitState("resend", ProviderCircuitState.Open, _now.AddSeconds(-10), _now.AddSeconds(20), "worker-1").ToJson());
        }
        var admin = _api.CreateClient(_api.IssueToken("ops", roles: ["admin"]));

        var response = await admin.GetAsync("/api/admin/metrics", Cancellation);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync(Cancellation)).RootElement;
        Assert.True(body.GetProperty("redisAvailable").GetBoolean());
        var jobs = body.GetProperty("jobsByStatus");
        Assert.Equal(2, jobs.GetProperty("queued").GetInt32());
        Assert.Equal(1, jobs.GetProperty("sent").GetInt32());
        Assert.Equal(1, jobs.GetProperty("failed").GetInt32());
        Assert.Equal(1, jobs.GetProperty("deferred").GetInt32());
        Assert.Equal(0, jobs.GetProperty("digested").GetInt32());
        var outbox = body.GetProperty("outbox");
        Assert.Equal(2, outbox.GetProperty("undispatched").GetInt32());
        Assert.Equal(1, outbox.GetProperty("due").GetInt32());
        Assert.Equal(600, outbox.GetProperty("oldestDueAgeSeconds").GetDouble());
        Assert.Equal(1, body.GetProperty("deadLetters").GetProperty("waiting").GetInt32());
        var email = body.GetProperty("email");
        Assert.Equal(1, email.GetProperty("sentToday").GetInt32());
        Assert.Equal(1, email.GetProperty("deferredToday").GetInt32());
        Assert.Equal(1, email.GetProperty("deferredNow").GetInt32());
        var quota = email.GetProperty("quota");
        Assert.Equal(42, quota.GetProperty("dailyUsed").GetInt64());
        Assert.Equal(100, quota.GetProperty("dailyLimit").GetInt32());
        Assert.Equal(420, quota.GetProperty("monthlyUsed").GetInt64());
        var emailStream = body.GetProperty("streams").EnumerateArray().Single(stream => stream.GetProperty("channel").GetString() == "email");
        Assert.Equal(1, emailStream.GetProperty("length").GetInt64());
        Assert.Equal(1, emailStream.GetProperty("lag").GetInt64());
        Assert.Equal(0, emailStream.GetProperty("pending").GetInt64());
        var circuit = Assert.Single(body.GetProperty("providerCircuits").EnumerateArray());
        Assert.Equal(("resend", "open"), (circuit.GetProperty("provider").GetString(), circuit.GetProperty("state").GetString()));
        Assert.Equal(_now.AddSeconds(20), circuit.GetProperty("until").GetDateTimeOffset());
    }

    [Fact]
    public async Task Metrics_WhileRedisIsDown_StillAnswerFromPostgres()
    {
        await _redis.StopAsync();
        var admin = _api.CreateClient(_api.IssueToken("ops", roles: ["admin"]));

        var response = await admin.GetAsync("/api/admin/metrics", Cancellation);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync(Cancellation)).RootElement;
        Assert.False(body.GetProperty("redisAvailable").GetBoolean());
        Assert.Equal(JsonValueKind.Null, body.GetProperty("streams").ValueKind);
        Assert.Equal(JsonValueKind.Null, body.GetProperty("providerCircuits").ValueKind);
        Assert.Equal(0, body.GetProperty("jobsByStatus").GetProperty("queued").GetInt32());
    }

    [Fact]
    public async Task Metrics_ForANonAdmin_Return403()
    {
        var user = _api.CreateClient(_api.IssueToken("someone"));

        await AssertProblemAsync(await user.GetAsync("/api/admin/metrics", Cancellation), HttpStatusCode.Forbidden, ProblemTypes.Forbidden);
    }

    private async Task SeedAsync()
    {
        await using var db = TestDatabase.CreateContext(_database);
        db.Users.Add(new User { Id = "ada", Email = "ada@example.test", CreatedAt = _now, UpdatedAt = _now });
        var jobs = new[]
        {
            Job(DeliveryJobStatus.Queued), Job(DeliveryJobStatus.Queued), Job(DeliveryJobStatus.Sent),
            Job(DeliveryJobStatus.Failed), Job(DeliveryJobStatus.Deferred),
        };
        foreach (var (notification, job) in jobs)
        {
            db.Notifications.Add(notification);
            db.DeliveryJobs.Add(job);
        }
        // Due ten minutes ago, and a retry due in an hour.
        db.OutboxMessages.Add(OutboxMessage.For(jobs[0].Job, null, null, _now.AddMinutes(-10)));
        db.OutboxMessages.Add(OutboxMessage.For(jobs[1].Job, null, null, _now.AddMinutes(-1), availableAt: _now.AddHours(1)));
        db.DeadLetters.Add(new DeadLetter
        {
            JobId = jobs[3].Job.Id, Channel = DeliveryChannel.Email, ErrorType = DeliveryErrorType.Permanent,
            AttemptHistory = JsonDocument.Parse("[]"), CreatedAt = _now, UpdatedAt = _now,
        });
        // Earlier today, whatever the time of day.
        var earlierToday = _now.UtcDateTime.Date + (_now.UtcDateTime - _now.UtcDateTime.Date) / 2;
        db.DeliveryLogs.Add(Log(jobs[2].Job.Id, DeliveryOutcome.Sent, new DateTimeOffset(earlierToday, TimeSpan.Zero)));
        db.DeliveryLogs.Add(Log(jobs[4].Job.Id, DeliveryOutcome.QuotaExceeded, _now));
        // Yesterday's send is not today's.
        db.DeliveryLogs.Add(Log(jobs[2].Job.Id, DeliveryOutcome.Sent, _now.AddDays(-1)));
        await db.SaveChangesAsync(Cancellation);
    }

    private (Notification Notification, DeliveryJob Job) Job(DeliveryJobStatus status)
    {
        var notification = new Notification
        {
            UserId = "ada", Type = "t", Category = "c", Title = "T", Body = "B", Data = JsonDocument.Parse("{}"), CreatedAt = _now,
        };
        return (notification, new DeliveryJob
        {
            NotificationId = notification.Id, UserId = "ada", Channel = DeliveryChannel.Email, Status = status,
            ScheduledFor = _now, CreatedAt = _now, UpdatedAt = _now,
        });
    }

    private static DeliveryLog Log(Guid jobId, DeliveryOutcome outcome, DateTimeOffset at) => new()
    {
        JobId = jobId, Attempt = 1, Channel = DeliveryChannel.Email, Provider = "dev-mailbox", Outcome = outcome, DurationMs = 3, CreatedAt = at,
    };
}
