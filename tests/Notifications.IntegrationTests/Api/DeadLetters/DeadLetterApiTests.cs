using System.Net;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Notifications.Api.Problems;
using Notifications.Domain.Model;
using Notifications.IntegrationTests.Api.Security;
using static Notifications.IntegrationTests.Api.ApiJson;
using static Notifications.IntegrationTests.Api.Security.ProblemAssertions;

namespace Notifications.IntegrationTests.Api.DeadLetters;

/// <summary>
/// <c>/api/admin/dlq</c> through the real host. The queue is global (admins see every dead letter), so each test has a
/// database of its own; the host's clock stands still at <see cref="_now"/>, so the stats' days are exact.
/// </summary>
[Collection(ApiSecurityCollection.Name)]
public sealed class DeadLetterApiTests(TestServers servers) : IAsyncLifetime
{
    private static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    // Now, since the host issues and checks tokens with this clock; whole milliseconds, which Postgres keeps exactly.
    private readonly DateTimeOffset _now = new(DateTimeOffset.UtcNow.UtcTicks / TimeSpan.TicksPerMillisecond * TimeSpan.TicksPerMillisecond, TimeSpan.Zero);
    private string _database = null!;
    private SecurityApiFactory _api = null!;

    public async ValueTask InitializeAsync()
    {
        _database = await TestDatabase.CreateMigratedDatabaseAsync(servers.Postgres);
        _api = new SecurityApiFactory(servers.Redis.ConnectionString, _database, timeProvider: new FrozenTimeProvider(_now));
    }

    public ValueTask DisposeAsync() => _api.DisposeAsync();

    [Theory]
    [InlineData("GET", "/api/admin/dlq")]
    [InlineData("GET", "/api/admin/dlq/stats")]
    [InlineData("POST", "/api/admin/dlq/0198a3c2-0000-7000-8000-000000000000/requeue")]
    public async Task Routes_WithoutToken_Return401_AndForNonAdmins403(string method, string route)
    {
        using var anonymous = await _api.CreateClient().SendAsync(new HttpRequestMessage(new HttpMethod(method), route), Cancellation);
        await AssertProblemAsync(anonymous, HttpStatusCode.Unauthorized, ProblemTypes.Unauthorized);

        var user = _api.CreateClient(_api.IssueToken($"user-{Guid.NewGuid():N}", scopes: ["notifications:send"]));
        using var forbidden = await user.SendAsync(new HttpRequestMessage(new HttpMethod(method), route), Cancellation);
        await AssertProblemAsync(forbidden, HttpStatusCode.Forbidden, ProblemTypes.Forbidden);
    }

    [Fact]
    public async Task List_NewestFirst_WithJobAndAttemptHistory_FilteredAndPaged()
    {
        var transientEmail = await SeedDeadLetterAsync(DeliveryErrorType.Transient, DeliveryChannel.Email, _now.AddHours(-30));
        var permanentEmail = await SeedDeadLetterAsync(DeliveryErrorType.Permanent, DeliveryChannel.Email, _now.AddHours(-20));
        var transientInApp = await SeedDeadLetterAsync(DeliveryErrorType.Transient, DeliveryChannel.InApp, _now.AddHours(-10));
        var admin = AdminClient();

        var all = await GetJsonAsync(admin, "/api/admin/dlq");

        Assert.Equal(3, all.GetProperty("total").GetInt32());
        var items = all.GetProperty("items").EnumerateArray().ToList();
        Assert.Equal([transientInApp.Id, permanentEmail.Id, transientEmail.Id], items.Select(item => item.GetProperty("id").GetGuid()));
        var first = items[0];
        Assert.Equal(("transient", "in_app", 503), (first.GetProperty("errorType").GetString(), first.GetProperty("channel").GetString(), first.GetProperty("httpStatusCode").GetInt32()));
        Assert.Equal("upstream unavailable", first.GetProperty("providerResponse").GetString());
        var job = first.GetProperty("job");
        Assert.Equal((transientInApp.JobId, "failed", 5), (job.GetProperty("id").GetGuid(), job.GetProperty("status").GetString(), job.GetProperty("attempts").GetInt32()));
        var history = first.GetProperty("attemptHistory").EnumerateArray().ToList();
        Assert.Equal([1, 2], history.Select(entry => entry.GetProperty("attempt").GetInt32()));
        Assert.Equal("transient_failure", history[1].GetProperty("outcome").GetString());

        await AssertIdsAsync(admin, "/api/admin/dlq?errorType=transient", 2, [transientInApp.Id, transientEmail.Id]);
        await AssertIdsAsync(admin, "/api/admin/dlq?channel=email", 2, [permanentEmail.Id, transientEmail.Id]);
        await AssertIdsAsync(admin, "/api/admin/dlq?errorType=transient&channel=email", 1, [transientEmail.Id]);
        var from = Uri.EscapeDataString(_now.AddHours(-25).ToString("O"));
        var to = Uri.EscapeDataString(_now.AddHours(-20).ToString("O"));
        await AssertIdsAsync(admin, $"/api/admin/dlq?from={from}&to={to}", 1, [permanentEmail.Id]);
        var page = await AssertIdsAsync(admin, "/api/admin/dlq?limit=1&offset=1", 3, [permanentEmail.Id]);
        Assert.Equal((1, 1), (page.GetProperty("limit").GetInt32(), page.GetProperty("offset").GetInt32()));
    }

    [Theory]
    [InlineData("/api/admin/dlq?errorType=fatal", "errorType")]
    [InlineData("/api/admin/dlq?channel=sms", "channel")]
    [InlineData("/api/admin/dlq?limit=0", "limit")]
    [InlineData("/api/admin/dlq?limit=101", "limit")]
    [InlineData("/api/admin/dlq?offset=-1", "offset")]
    [InlineData("/api/admin/dlq?from=2026-01-02T00:00:00Z&to=2026-01-01T00:00:00Z", "from")]
    [InlineData("/api/admin/dlq/stats?days=0", "days")]
    [InlineData("/api/admin/dlq/stats?days=91", "days")]
    public async Task BadQueryParameter_Returns400NamingTheField(string route, string field)
    {
        var response = await AdminClient().GetAsync(route, Cancellation);

        var problem = await AssertProblemAsync(response, HttpStatusCode.BadRequest, ProblemTypes.Validation);
        Assert.Equal([field], problem.GetProperty("errors").EnumerateObject().Select(error => error.Name));
    }

    [Fact]
    public async Task Stats_CountByErrorTypeChannelAndUtcDay_OverTheWindow()
    {
        var today = new DateTimeOffset(_now.UtcDateTime.Date, TimeSpan.Zero);
        await SeedDeadLetterAsync(DeliveryErrorType.Transient, DeliveryChannel.Email, today.AddHours(1));
        await SeedDeadLetterAsync(DeliveryErrorType.Permanent, DeliveryChannel.Email, today.AddHours(2));
        await SeedDeadLetterAsync(DeliveryErrorType.Transient, DeliveryChannel.InApp, today.AddDays(-2).AddHours(23));
        // Just outside a three-day window.
        await SeedDeadLetterAsync(DeliveryErrorType.Permanent, DeliveryChannel.InApp, today.AddDays(-2).AddTicks(-10));

        var stats = await GetJsonAsync(AdminClient(), "/api/admin/dlq/stats?days=3");

        Assert.Equal(3, stats.GetProperty("days").GetInt32());
        Assert.Equal(today.AddDays(-2), stats.GetProperty("since").GetDateTimeOffset());
        Assert.Equal(3, stats.GetProperty("total").GetInt32());
        var byErrorType = stats.GetProperty("byErrorType");
        Assert.Equal((2, 1, 0), (byErrorType.GetProperty("transient").GetInt32(), byErrorType.GetProperty("permanent").GetInt32(), byErrorType.GetProperty("quota").GetInt32()));
        var byChannel = stats.GetProperty("byChannel");
        Assert.Equal((2, 1), (byChannel.GetProperty("email").GetInt32(), byChannel.GetProperty("in_app").GetInt32()));
        var byDay = stats.GetProperty("byDay").EnumerateArray()
            .Select(day => (day.GetProperty("day").GetString(), day.GetProperty("count").GetInt32())).ToList();
        Assert.Equal(
            [(today.AddDays(-2).ToString("yyyy-MM-dd"), 1), (today.AddDays(-1).ToString("yyyy-MM-dd"), 0), (today.ToString("yyyy-MM-dd"), 2)],
            byDay);

        var week = await GetJsonAsync(AdminClient(), "/api/admin/dlq/stats");
        Assert.Equal((7, 4), (week.GetProperty("days").GetInt32(), week.GetProperty("total").GetInt32()));
    }

    [Fact]
    public async Task Requeue_QueuesTheFailedJobWithOneOutboxRow_AndMarksTheDeadLetter()
    {
        var deadLetter = await SeedDeadLetterAsync(DeliveryErrorType.Transient, DeliveryChannel.Email, _now.AddHours(-1));

        var response = await AdminClient().PostAsync($"/api/admin/dlq/{deadLetter.Id}/requeue", null, Cancellation);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await ReadJsonAsync(response);
        Assert.Equal(_now, body.GetProperty("requeuedAt").GetDateTimeOffset());
        Assert.Equal(1, body.GetProperty("requeueCount").GetInt32());
        Assert.Equal("queued", body.GetProperty("job").GetProperty("status").GetString());
        await using var db = TestDatabase.CreateContext(_database);
        var job = await db.DeliveryJobs.AsNoTracking().SingleAsync(job => job.Id == deadLetter.JobId, Cancellation);
        // A fresh start: neither the retries nor the stuck-job recoveries it used up count against it any more.
        Assert.Equal((DeliveryJobStatus.Queued, 0, 0, _now, _now), (job.Status, job.Attempts, job.RecoveryCount, job.ScheduledFor, job.UpdatedAt));
        var row = Assert.Single(await db.OutboxMessages.AsNoTracking().Where(row => row.JobId == job.Id).ToListAsync(Cancellation));
        Assert.Equal((DeliveryChannel.Email, _now), (row.Channel, row.AvailableAt));
        Assert.Equal(job.Id, row.ToDeliveryMessage().JobId);
        var stored = await db.DeadLetters.AsNoTracking().SingleAsync(stored => stored.Id == deadLetter.Id, Cancellation);
        Assert.Equal((_now, 1), (stored.RequeuedAt, stored.RequeueCount));
    }

    [Fact]
    public async Task Requeue_SignalsTheOutboxRelaysOfEveryReplica()
    {
        var deadLetter = await SeedDeadLetterAsync(DeliveryErrorType.Transient, DeliveryChannel.InApp, _now.AddHours(-1));
        await using var otherReplica = await OutboxSignalListener.StartAsync(_database);

        var response = await AdminClient().PostAsync($"/api/admin/dlq/{deadLetter.Id}/requeue", null, Cancellation);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        await otherReplica.NextSignalAsync();
    }

    [Fact]
    public async Task Requeue_Twice_TheSecondAnswers409NamingTheJobsStatus_AndNothingIsEnqueuedTwice()
    {
        var deadLetter = await SeedDeadLetterAsync(DeliveryErrorType.Permanent, DeliveryChannel.InApp, _now.AddHours(-1));
        var admin = AdminClient();
        Assert.Equal(HttpStatusCode.OK, (await admin.PostAsync($"/api/admin/dlq/{deadLetter.Id}/requeue", null, Cancellation)).StatusCode);

        var second = await admin.PostAsync($"/api/admin/dlq/{deadLetter.Id}/requeue", null, Cancellation);

        var problem = await AssertProblemAsync(second, HttpStatusCode.Conflict, ProblemTypes.Conflict);
        Assert.Equal("queued", problem.GetProperty("jobStatus").GetString());
        Assert.Contains("The job is queued", problem.GetProperty("detail").GetString());
        await using var db = TestDatabase.CreateContext(_database);
        Assert.Equal(1, await db.OutboxMessages.CountAsync(row => row.JobId == deadLetter.JobId, Cancellation));
        Assert.Equal(1, (await db.DeadLetters.AsNoTracking().SingleAsync(stored => stored.Id == deadLetter.Id, Cancellation)).RequeueCount);
    }

    [Fact]
    public async Task ConcurrentRequeues_ExactlyOneSucceeds()
    {
        var deadLetter = await SeedDeadLetterAsync(DeliveryErrorType.Transient, DeliveryChannel.Email, _now.AddHours(-1));
        var admin = AdminClient();

        var responses = await Task.WhenAll(Enumerable.Range(0, 6).Select(_ => admin.PostAsync($"/api/admin/dlq/{deadLetter.Id}/requeue", null, Cancellation)));

        Assert.Single(responses, response => response.StatusCode == HttpStatusCode.OK);
        Assert.Equal(5, responses.Count(response => response.StatusCode == HttpStatusCode.Conflict));
        await using var db = TestDatabase.CreateContext(_database);
        Assert.Equal(1, await db.OutboxMessages.CountAsync(row => row.JobId == deadLetter.JobId, Cancellation));
    }

    [Fact]
    public async Task Requeue_UnknownDeadLetter_Returns404()
    {
        var response = await AdminClient().PostAsync($"/api/admin/dlq/{Guid.NewGuid()}/requeue", null, Cancellation);

        await AssertProblemAsync(response, HttpStatusCode.NotFound, ProblemTypes.NotFound);
    }

    private HttpClient AdminClient() => _api.CreateClient(_api.IssueToken($"admin-{Guid.NewGuid():N}", roles: ["admin"]));

    private static async Task<JsonElement> AssertIdsAsync(HttpClient client, string route, int total, Guid[] expected)
    {
        var page = await GetJsonAsync(client, route);
        Assert.Equal(total, page.GetProperty("total").GetInt32());
        Assert.Equal(expected, page.GetProperty("items").EnumerateArray().Select(item => item.GetProperty("id").GetGuid()));
        return page;
    }

    /// <summary>A failed job (five attempts) and its dead letter, as the worker leaves them.</summary>
    private async Task<DeadLetter> SeedDeadLetterAsync(DeliveryErrorType errorType, DeliveryChannel channel, DateTimeOffset createdAt)
    {
        var userId = $"dlq-{Guid.NewGuid():N}";
        var notification = new Notification
        {
            UserId = userId,
            Type = "comment.created",
            Category = "social",
            Title = "Title",
            Body = "Body",
            Data = JsonDocument.Parse("{}"),
            CreatedAt = createdAt.AddMinutes(-5),
        };
        var job = new DeliveryJob
        {
            NotificationId = notification.Id,
            UserId = userId,
            Channel = channel,
            Status = DeliveryJobStatus.Failed,
            Attempts = 5,
            RecoveryCount = 3,
            ScheduledFor = createdAt.AddMinutes(-1),
            LastError = "503 Service Unavailable",
            CreatedAt = createdAt.AddMinutes(-5),
            UpdatedAt = createdAt,
        };
        var deadLetter = new DeadLetter
        {
            JobId = job.Id,
            Channel = channel,
            ErrorType = errorType,
            HttpStatusCode = errorType == DeliveryErrorType.Permanent ? 422 : 503,
            ProviderResponse = "upstream unavailable",
            ErrorMessage = "503 Service Unavailable",
            AttemptHistory = JsonDocument.Parse($$"""
                [{"attempt":1,"at":"{{createdAt.AddMinutes(-3):O}}","provider":"resend","outcome":"transient_failure","httpStatusCode":503,"durationMs":40,"error":"503"},
                 {"attempt":2,"at":"{{createdAt:O}}","provider":"resend","outcome":"transient_failure","httpStatusCode":503,"durationMs":41,"error":"503"}]
                """),
            CreatedAt = createdAt,
            UpdatedAt = createdAt,
        };
        await using var db = TestDatabase.CreateContext(_database);
        db.Users.Add(new User { Id = userId, CreatedAt = createdAt, UpdatedAt = createdAt });
        db.Notifications.Add(notification);
        db.DeliveryJobs.Add(job);
        db.DeadLetters.Add(deadLetter);
        await db.SaveChangesAsync(Cancellation);
        return deadLetter;
    }
}
