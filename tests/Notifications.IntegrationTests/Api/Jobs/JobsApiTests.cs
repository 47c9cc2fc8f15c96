using System.Net;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Notifications.Api.Problems;
using Notifications.Domain.Model;
using Notifications.IntegrationTests.Api.Security;
using static Notifications.IntegrationTests.Api.ApiJson;
using static Notifications.IntegrationTests.Api.Security.ProblemAssertions;

namespace Notifications.IntegrationTests.Api.Jobs;

/// <summary>
/// <c>/api/jobs</c> through the real host and database. Each test seeds its own users (fresh ids), so no test sees
/// another's jobs; the host's clock stands still at <see cref="_now"/>, so ages and the overdue threshold are exact.
/// </summary>
[Collection(ApiSecurityCollection.Name)]
public sealed class JobsApiTests : IAsyncDisposable
{
    private static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    private readonly TestServers _servers;
    private readonly DateTimeOffset _now;
    private readonly SecurityApiFactory _api;

    public JobsApiTests(TestServers servers)
    {
        _servers = servers;
        // Postgres keeps microseconds; whole milliseconds round-trip exactly.
        var ticks = DateTimeOffset.UtcNow.UtcTicks;
        _now = new DateTimeOffset(ticks - ticks % TimeSpan.TicksPerMillisecond, TimeSpan.Zero);
        _api = new SecurityApiFactory(servers.Redis.ConnectionString, servers.DatabaseConnectionString,
            timeProvider: new FrozenTimeProvider(_now));
    }

    public ValueTask DisposeAsync() => _api.DisposeAsync();

    [Fact]
    public async Task GetJob_Own_ReturnsJobWithLogsInAttemptOrderProcessingTimeAndNotification()
    {
        var userId = await SeedUserAsync();
        var job = await SeedJobAsync(userId, DeliveryJobStatus.Sent, type: "comment.created",
            createdAt: _now.AddSeconds(-10), processedAfter: TimeSpan.FromMilliseconds(1500));
        await SeedLogAsync(job.Id, 2, DeliveryOutcome.Sent, null);
        await SeedLogAsync(job.Id, 1, DeliveryOutcome.TransientFailure, "timeout");

        var body = await GetJsonAsync(UserClient(userId), $"/api/jobs/{job.Id}");

        var summary = body.GetProperty("job");
        Assert.Equal(job.Id, summary.GetProperty("id").GetGuid());
        Assert.Equal("sent", summary.GetProperty("status").GetString());
        Assert.Equal("email", summary.GetProperty("channel").GetString());
        Assert.Equal(1500, body.GetProperty("processingTimeMs").GetInt64());
        Assert.Equal("comment.created", body.GetProperty("notification").GetProperty("type").GetString());
        Assert.Equal("Title of comment.created", body.GetProperty("notification").GetProperty("title").GetString());
        var logs = body.GetProperty("deliveryLogs").EnumerateArray().ToList();
        Assert.Equal([1, 2], logs.Select(log => log.GetProperty("attempt").GetInt32()));
        Assert.Equal("transient_failure", logs[0].GetProperty("outcome").GetString());
        Assert.Equal("timeout", logs[0].GetProperty("error").GetString());
    }

    [Fact]
    public async Task GetJob_NotProcessed_HasNullProcessingTime()
    {
        var userId = await SeedUserAsync();
        var job = await SeedJobAsync(userId, DeliveryJobStatus.Queued);

        var body = await GetJsonAsync(UserClient(userId), $"/api/jobs/{job.Id}");

        Assert.Equal(JsonValueKind.Null, body.GetProperty("processingTimeMs").ValueKind);
        Assert.Empty(body.GetProperty("deliveryLogs").EnumerateArray());
    }

    [Fact]
    public async Task GetJob_AnotherUsersOrUnknownId_Returns404Problem()
    {
        var owner = await SeedUserAsync();
        var job = await SeedJobAsync(owner, DeliveryJobStatus.Sent);
        var client = UserClient(await SeedUserAsync());

        await AssertProblemAsync(await client.GetAsync($"/api/jobs/{job.Id}", Cancellation), HttpStatusCode.NotFound, ProblemTypes.NotFound);
        await AssertProblemAsync(await client.GetAsync($"/api/jobs/{Guid.NewGuid()}", Cancellation), HttpStatusCode.NotFound, ProblemTypes.NotFound);
    }

    [Theory]
    [InlineData("/api/jobs")]
    [InlineData("/api/jobs/metrics")]
    [InlineData("/api/jobs/0198a3c2-0000-7000-8000-000000000000")]
    public async Task Routes_WithoutToken_Return401Problem(string route)
    {
        var response = await _api.CreateClient().GetAsync(route, Cancellation);

        await AssertProblemAsync(response, HttpStatusCode.Unauthorized, ProblemTypes.Unauthorized);
    }

    [Fact]
    public async Task Admin_SeesAndListsAnotherUsersJobs()
    {
        var owner = await SeedUserAsync();
        var type = $"admin.check.{Guid.NewGuid():N}";
        var job = await SeedJobAsync(owner, DeliveryJobStatus.Sent, type: type);
        var admin = _api.CreateClient(_api.IssueToken($"admin-{Guid.NewGuid():N}", roles: ["admin"]));

        var details = await GetJsonAsync(admin, $"/api/jobs/{job.Id}");
        var page = await GetJsonAsync(admin, $"/api/jobs?type={type}");

        Assert.Equal(owner, details.GetProperty("job").GetProperty("userId").GetString());
        Assert.Equal(1, page.GetProperty("total").GetInt32());
        Assert.Equal(job.Id, Assert.Single(page.GetProperty("items").EnumerateArray()).GetProperty("id").GetGuid());
    }

    [Theory]
    [InlineData(DeliveryJobStatus.Queued)]
    [InlineData(DeliveryJobStatus.Pending)]
    [InlineData(DeliveryJobStatus.Deferred)]
    [InlineData(DeliveryJobStatus.DigestPending)]
    public async Task Cancel_WaitingJob_CancelsItAndReturnsIt(DeliveryJobStatus status)
    {
        var userId = await SeedUserAsync();
        var job = await SeedJobAsync(userId, status, createdAt: _now.AddMinutes(-1));

        var response = await UserClient(userId).DeleteAsync($"/api/jobs/{job.Id}", Cancellation);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await ReadJsonAsync(response);
        Assert.Equal("cancelled", body.GetProperty("status").GetString());
        Assert.Equal(_now, body.GetProperty("updatedAt").GetDateTimeOffset());
        var stored = await FindJobAsync(job.Id);
        Assert.Equal(DeliveryJobStatus.Cancelled, stored.Status);
        Assert.Equal(_now, stored.UpdatedAt);
    }

    [Theory]
    [InlineData(DeliveryJobStatus.Sent, "sent")]
    [InlineData(DeliveryJobStatus.Processing, "processing")]
    [InlineData(DeliveryJobStatus.Cancelled, "cancelled")]
    public async Task Cancel_JobPastWaiting_Returns409NamingItsStatus(DeliveryJobStatus status, string name)
    {
        var userId = await SeedUserAsync();
        var job = await SeedJobAsync(userId, status, createdAt: _now.AddMinutes(-1));

        var response = await UserClient(userId).DeleteAsync($"/api/jobs/{job.Id}", Cancellation);

        var problem = await AssertProblemAsync(response, HttpStatusCode.Conflict, ProblemTypes.Conflict);
        Assert.Equal(name, problem.GetProperty("jobStatus").GetString());
        Assert.Contains($"The job is {name}", problem.GetProperty("detail").GetString());
        Assert.Equal(status, (await FindJobAsync(job.Id)).Status);
    }

    [Fact]
    public async Task Cancel_AnotherUsersJob_Returns404AndLeavesItAlone()
    {
        var owner = await SeedUserAsync();
        var job = await SeedJobAsync(owner, DeliveryJobStatus.Queued);

        var response = await UserClient(await SeedUserAsync()).DeleteAsync($"/api/jobs/{job.Id}", Cancellation);

        await AssertProblemAsync(response, HttpStatusCode.NotFound, ProblemTypes.NotFound);
        Assert.Equal(DeliveryJobStatus.Queued, (await FindJobAsync(job.Id)).Status);
    }

    [Fact]
    public async Task List_FiltersSortsAndPages()
    {
        var userId = await SeedUserAsync();
        var other = await SeedUserAsync();
        // Oldest first; scheduled_for runs the other way round so the two sorts differ.
        var a = await SeedJobAsync(userId, DeliveryJobStatus.Sent, DeliveryChannel.Email, "alert", _now.AddHours(-5), scheduledFor: _now.AddHours(5));
        var b = await SeedJobAsync(userId, DeliveryJobStatus.Failed, DeliveryChannel.Email, "comment", _now.AddHours(-4), scheduledFor: _now.AddHours(4));
        var c = await SeedJobAsync(userId, DeliveryJobStatus.Sent, DeliveryChannel.InApp, "alert", _now.AddHours(-3), scheduledFor: _now.AddHours(3));
        var d = await SeedJobAsync(userId, DeliveryJobStatus.Queued, DeliveryChannel.InApp, "comment", _now.AddHours(-2), scheduledFor: _now.AddHours(2));
        var e = await SeedJobAsync(userId, DeliveryJobStatus.Sent, DeliveryChannel.Email, "alert", _now.AddHours(-1), scheduledFor: _now.AddHours(1));
        await SeedJobAsync(other, DeliveryJobStatus.Sent);
        var client = UserClient(userId);

        await AssertPageAsync(client, "/api/jobs", 5, [e, d, c, b, a]);
        await AssertPageAsync(client, "/api/jobs?sort=created_at", 5, [a, b, c, d, e]);
        await AssertPageAsync(client, "/api/jobs?sort=scheduled_for", 5, [e, d, c, b, a]);
        await AssertPageAsync(client, "/api/jobs?sort=-scheduled_for", 5, [a, b, c, d, e]);
        await AssertPageAsync(client, "/api/jobs?status=sent", 3, [e, c, a]);
        await AssertPageAsync(client, "/api/jobs?channel=in_app", 2, [d, c]);
        await AssertPageAsync(client, "/api/jobs?type=comment", 2, [d, b]);
        await AssertPageAsync(client, "/api/jobs?status=sent&channel=email&type=alert", 2, [e, a]);
        var from = Uri.EscapeDataString(_now.AddHours(-4).ToString("O"));
        var to = Uri.EscapeDataString(_now.AddHours(-2).ToString("O"));
        await AssertPageAsync(client, $"/api/jobs?from={from}&to={to}", 3, [d, c, b]);

        var page = await AssertPageAsync(client, "/api/jobs?sort=created_at&limit=2&offset=1", 5, [b, c]);
        Assert.Equal(2, page.GetProperty("limit").GetInt32());
        Assert.Equal(1, page.GetProperty("offset").GetInt32());
        await AssertPageAsync(client, "/api/jobs?offset=5", 5, []);
        Assert.Equal(20, (await GetJsonAsync(client, "/api/jobs")).GetProperty("limit").GetInt32());
    }

    [Theory]
    [InlineData("/api/jobs?status=delivered", "status")]
    [InlineData("/api/jobs?status=Sent", "status")]
    [InlineData("/api/jobs?channel=sms", "channel")]
    [InlineData("/api/jobs?sort=priority", "sort")]
    [InlineData("/api/jobs?limit=0", "limit")]
    [InlineData("/api/jobs?limit=101", "limit")]
    [InlineData("/api/jobs?offset=-1", "offset")]
    [InlineData("/api/jobs?from=2026-01-02T00:00:00Z&to=2026-01-01T00:00:00Z", "from")]
    [InlineData("/api/jobs/metrics?hours=0", "hours")]
    [InlineData("/api/jobs/metrics?hours=721", "hours")]
    public async Task BadQueryParameter_Returns400NamingTheField(string route, string field)
    {
        var response = await UserClient($"user-{Guid.NewGuid():N}").GetAsync(route, Cancellation);

        var problem = await AssertProblemAsync(response, HttpStatusCode.BadRequest, ProblemTypes.Validation);
        var errors = problem.GetProperty("errors");
        Assert.Equal([field], errors.EnumerateObject().Select(error => error.Name));
    }

    [Fact]
    public async Task Metrics_CountsTheCallersJobsInTheWindow()
    {
        var userId = await SeedUserAsync();
        var other = await SeedUserAsync();
        var recently = _now.AddHours(-1);
        await SeedJobAsync(userId, DeliveryJobStatus.Sent, DeliveryChannel.Email, createdAt: recently, processedAfter: TimeSpan.FromSeconds(1));
        await SeedJobAsync(userId, DeliveryJobStatus.Sent, DeliveryChannel.Email, createdAt: recently, processedAfter: TimeSpan.FromSeconds(3));
        await SeedJobAsync(userId, DeliveryJobStatus.Sent, DeliveryChannel.InApp, createdAt: recently, processedAfter: TimeSpan.FromSeconds(2));
        var failed = await SeedJobAsync(userId, DeliveryJobStatus.Failed, DeliveryChannel.Email, createdAt: recently, lastError: "mailbox full");
        // Overdue: waiting with scheduled_for more than 5 minutes back.
        await SeedJobAsync(userId, DeliveryJobStatus.Queued, DeliveryChannel.Email, createdAt: recently, scheduledFor: _now.AddMinutes(-10));
        // Not overdue: inside the threshold.
        await SeedJobAsync(userId, DeliveryJobStatus.Pending, DeliveryChannel.Email, createdAt: recently, scheduledFor: _now.AddMinutes(-4));
        await SeedJobAsync(userId, DeliveryJobStatus.Cancelled, DeliveryChannel.InApp, createdAt: recently, scheduledFor: _now.AddHours(-1));
        // Outside the 24-hour window, but overdue all the same.
        await SeedJobAsync(userId, DeliveryJobStatus.Deferred, DeliveryChannel.Email, createdAt: _now.AddHours(-48), scheduledFor: _now.AddHours(-47));
        await SeedJobAsync(other, DeliveryJobStatus.Failed, DeliveryChannel.Email, createdAt: recently, scheduledFor: _now.AddHours(-2));
        var client = UserClient(userId);

        var metrics = await GetJsonAsync(client, "/api/jobs/metrics");

        Assert.Equal(24, metrics.GetProperty("hours").GetInt32());
        Assert.Equal(7, metrics.GetProperty("total").GetInt32());
        var byStatus = metrics.GetProperty("byStatus");
        Assert.Equal(3, byStatus.GetProperty("sent").GetInt32());
        Assert.Equal(1, byStatus.GetProperty("failed").GetInt32());
        Assert.Equal(1, byStatus.GetProperty("queued").GetInt32());
        Assert.Equal(1, byStatus.GetProperty("pending").GetInt32());
        Assert.Equal(1, byStatus.GetProperty("cancelled").GetInt32());
        Assert.Equal(0, byStatus.GetProperty("deferred").GetInt32());
        Assert.Equal(0.75, metrics.GetProperty("successRate").GetDouble());
        Assert.Equal(2000, metrics.GetProperty("averageProcessingTimeMs").GetDouble(), precision: 3);
        Assert.Equal(2, metrics.GetProperty("overdueJobs").GetInt32());
        var byChannel = metrics.GetProperty("byChannel").EnumerateArray().ToDictionary(channel => channel.GetProperty("channel").GetString()!);
        Assert.Equal(5, byChannel["email"].GetProperty("total").GetInt32());
        Assert.Equal(2, byChannel["email"].GetProperty("byStatus").GetProperty("sent").GetInt32());
        Assert.Equal(1, byChannel["email"].GetProperty("byStatus").GetProperty("failed").GetInt32());
        Assert.Equal(2, byChannel["in_app"].GetProperty("total").GetInt32());
        Assert.Equal(1, byChannel["in_app"].GetProperty("byStatus").GetProperty("cancelled").GetInt32());
        var failure = Assert.Single(metrics.GetProperty("recentFailures").EnumerateArray());
        Assert.Equal(failed.Id, failure.GetProperty("id").GetGuid());
        Assert.Equal("email", failure.GetProperty("channel").GetString());
        Assert.Equal("mailbox full", failure.GetProperty("lastError").GetString());

        var wider = await GetJsonAsync(client, "/api/jobs/metrics?hours=72");
        Assert.Equal(8, wider.GetProperty("total").GetInt32());
        Assert.Equal(1, wider.GetProperty("byStatus").GetProperty("deferred").GetInt32());
    }

    [Fact]
    public async Task Metrics_NoJobs_HasNullRates()
    {
        var metrics = await GetJsonAsync(UserClient(await SeedUserAsync()), "/api/jobs/metrics?hours=1");

        Assert.Equal(0, metrics.GetProperty("total").GetInt32());
        Assert.Equal(JsonValueKind.Null, metrics.GetProperty("successRate").ValueKind);
        Assert.Equal(JsonValueKind.Null, metrics.GetProperty("averageProcessingTimeMs").ValueKind);
        Assert.Empty(metrics.GetProperty("byChannel").EnumerateArray());
        Assert.Empty(metrics.GetProperty("recentFailures").EnumerateArray());
    }

    private HttpClient UserClient(string userId) => _api.CreateClient(_api.IssueToken(userId));

    private static async Task<JsonElement> AssertPageAsync(HttpClient client, string route, int total, DeliveryJob[] expected)
    {
        var page = await GetJsonAsync(client, route);
        Assert.Equal(total, page.GetProperty("total").GetInt32());
        Assert.Equal(expected.Select(job => job.Id), page.GetProperty("items").EnumerateArray().Select(item => item.GetProperty("id").GetGuid()));
        return page;
    }

    private async Task<string> SeedUserAsync()
    {
        var userId = $"jobs-{Guid.NewGuid():N}";
        await using var db = TestDatabase.CreateContext(_servers.DatabaseConnectionString);
        db.Users.Add(new User { Id = userId, Email = $"{userId}@example.test", CreatedAt = _now, UpdatedAt = _now });
        await db.SaveChangesAsync(Cancellation);
        return userId;
    }

    private async Task<DeliveryJob> SeedJobAsync(
        string userId,
        DeliveryJobStatus status,
        DeliveryChannel channel = DeliveryChannel.Email,
        string type = "general",
        DateTimeOffset? createdAt = null,
        DateTimeOffset? scheduledFor = null,
        TimeSpan? processedAfter = null,
        string? lastError = null)
    {
        var created = createdAt ?? _now.AddMinutes(-1);
        // Each job delivers its own notification: (notification_id, channel) is unique.
        var notification = new Notification
        {
            UserId = userId,
            Type = type,
            Category = "general",
            Title = $"Title of {type}",
            Body = "Body",
            Data = JsonDocument.Parse("{}"),
            CreatedAt = created,
        };
        var job = new DeliveryJob
        {
            NotificationId = notification.Id,
            UserId = userId,
            Channel = channel,
            Status = status,
            ScheduledFor = scheduledFor ?? created,
            ProcessedAt = created + processedAfter,
            LastError = lastError,
            CreatedAt = created,
            UpdatedAt = created,
        };
        await using var db = TestDatabase.CreateContext(_servers.DatabaseConnectionString);
        db.Notifications.Add(notification);
        db.DeliveryJobs.Add(job);
        await db.SaveChangesAsync(Cancellation);
        return job;
    }

    private async Task SeedLogAsync(Guid jobId, int attempt, DeliveryOutcome outcome, string? error)
    {
        await using var db = TestDatabase.CreateContext(_servers.DatabaseConnectionString);
        db.DeliveryLogs.Add(new DeliveryLog
        {
            JobId = jobId,
            Attempt = attempt,
            Channel = DeliveryChannel.Email,
            Provider = "dev-mailbox",
            Outcome = outcome,
            DurationMs = 40,
            Error = error,
            CreatedAt = _now.AddSeconds(-10 + attempt),
        });
        await db.SaveChangesAsync(Cancellation);
    }

    private async Task<DeliveryJob> FindJobAsync(Guid id)
    {
        await using var db = TestDatabase.CreateContext(_servers.DatabaseConnectionString);
        return await db.DeliveryJobs.AsNoTracking().SingleAsync(job => job.Id == id, Cancellation);
    }
}
