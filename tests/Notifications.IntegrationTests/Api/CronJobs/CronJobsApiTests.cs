using System.Net;
using System.Text.Json;
using Notifications.Api.Problems;
using Notifications.Domain.Model;
using Notifications.Domain.Scheduling;
using Notifications.IntegrationTests.Api.Security;
using static Notifications.IntegrationTests.Api.Security.ProblemAssertions;

namespace Notifications.IntegrationTests.Api.CronJobs;

/// <summary>
/// <c>/api/admin/cron-jobs</c> through the real host, each test on a database of its own (run history is global). The
/// host's clock stands still at <see cref="_now"/>; triggers go through Quartz's store to a started <see cref="QuartzTestNode"/>.
/// </summary>
[Collection(ApiSecurityCollection.Name)]
public sealed class CronJobsApiTests(TestServers servers) : IAsyncLifetime
{
    private static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    private readonly DateTimeOffset _now = WholeMilliseconds(DateTimeOffset.UtcNow);
    private string _database = null!;
    private SecurityApiFactory _api = null!;

    public async ValueTask InitializeAsync()
    {
        _database = await TestDatabase.CreateMigratedDatabaseAsync(servers.Postgres);
        _api = new SecurityApiFactory(servers.Redis.ConnectionString, _database, timeProvider: new FrozenTimeProvider(_now));
    }

    public ValueTask DisposeAsync() => _api.DisposeAsync();

    [Theory]
    [InlineData("GET", "/api/admin/cron-jobs")]
    [InlineData("GET", "/api/admin/cron-jobs/stats")]
    [InlineData("POST", "/api/admin/cron-jobs/retention/trigger")]
    public async Task Routes_AreForAdminsOnly(string method, string route)
    {
        var anonymous = await _api.CreateClient().SendAsync(new HttpRequestMessage(new HttpMethod(method), route), Cancellation);
        var user = await _api.CreateClient(_api.IssueToken($"user-{Guid.NewGuid():N}"))
            .SendAsync(new HttpRequestMessage(new HttpMethod(method), route), Cancellation);

        await AssertProblemAsync(anonymous, HttpStatusCode.Unauthorized, ProblemTypes.Unauthorized);
        await AssertProblemAsync(user, HttpStatusCode.Forbidden, ProblemTypes.Forbidden);
    }

    [Fact]
    public async Task ListRuns_GivesTheLatest50RunsOfEachJob_NewestFirst()
    {
        for (var i = 0; i < 55; i++)
        {
            await SeedRunAsync(CronJobCatalog.DigestDispatch, _now.AddMinutes(-i), CronJobStatus.Completed);
        }
        var failed = await SeedRunAsync(CronJobCatalog.Retention, _now.AddHours(-30), CronJobStatus.Failed, found: 4, completed: 3, failed: 1, error: "disk full");
        await SeedRunAsync(CronJobCatalog.Retention, _now.AddHours(-6), CronJobStatus.Completed);

        var list = await GetJsonAsync("/api/admin/cron-jobs");

        var items = list.GetProperty("items").EnumerateArray().ToList();
        Assert.Equal(52, items.Count);
        Assert.Equal(50, items.Count(item => item.GetProperty("jobName").GetString() == CronJobCatalog.DigestDispatch));
        var startedAt = items.Select(item => item.GetProperty("startedAt").GetDateTimeOffset()).ToList();
        Assert.Equal(startedAt.OrderDescending(), startedAt);
        Assert.Equal(_now.AddMinutes(-49), items.Where(item => item.GetProperty("jobName").GetString() == CronJobCatalog.DigestDispatch)
            .Min(item => item.GetProperty("startedAt").GetDateTimeOffset()));
        var retention = items.Single(item => item.GetProperty("id").GetGuid() == failed);
        Assert.Equal("failed", retention.GetProperty("status").GetString());
        Assert.Equal("disk full", retention.GetProperty("errorMessage").GetString());
        Assert.Equal(4, retention.GetProperty("results").GetProperty("found").GetInt32());
        Assert.Equal(1, retention.GetProperty("results").GetProperty("failed").GetInt32());
    }

    [Fact]
    public async Task ListRuns_FiltersByJobAndStatus()
    {
        await SeedRunAsync(CronJobCatalog.Retention, _now.AddHours(-2), CronJobStatus.Completed);
        var failed = await SeedRunAsync(CronJobCatalog.Retention, _now.AddHours(-1), CronJobStatus.Failed);
        await SeedRunAsync(CronJobCatalog.DeferredRelease, _now.AddHours(-1), CronJobStatus.Failed);

        var ofJob = await GetJsonAsync("/api/admin/cron-jobs?job=retention");
        var failures = await GetJsonAsync("/api/admin/cron-jobs?job=retention&status=failed");

        Assert.Equal(2, ofJob.GetProperty("items").GetArrayLength());
        Assert.Equal(failed, Assert.Single(failures.GetProperty("items").EnumerateArray()).GetProperty("id").GetGuid());
    }

    [Theory]
    [InlineData("?job=daily-digest", "job")]
    [InlineData("?status=done", "status")]
    public async Task ListRuns_UnknownJobOrStatus_Is400NamingTheField(string query, string field)
    {
        var response = await AdminClient().GetAsync($"/api/admin/cron-jobs{query}", Cancellation);

        var problem = await AssertProblemAsync(response, HttpStatusCode.BadRequest, ProblemTypes.Validation);
        Assert.True(problem.GetProperty("errors").TryGetProperty(field, out _));
    }

    [Fact]
    public async Task Stats_CountRunsRateDurationAndItemsPerJob_OverTheWindow()
    {
        await SeedRunAsync(CronJobCatalog.StuckJobRecovery, _now.AddHours(-5), CronJobStatus.Completed, durationMs: 100, found: 6, completed: 5, failed: 1);
        await SeedRunAsync(CronJobCatalog.StuckJobRecovery, _now.AddHours(-4), CronJobStatus.Completed, durationMs: 300, found: 3, completed: 3, skipped: 2, errors: 1);
        await SeedRunAsync(CronJobCatalog.StuckJobRecovery, _now.AddHours(-3), CronJobStatus.Failed, durationMs: 200, found: 2, failed: 2);
        await SeedRunAsync(CronJobCatalog.StuckJobRecovery, _now.AddMinutes(-1), CronJobStatus.Running);
        await SeedRunAsync(CronJobCatalog.StuckJobRecovery, _now.AddDays(-8), CronJobStatus.Failed, durationMs: 9000, found: 50, failed: 50);

        var stats = await GetJsonAsync("/api/admin/cron-jobs/stats");

        Assert.Equal(168, stats.GetProperty("hours").GetInt32());
        var jobs = stats.GetProperty("jobs").EnumerateArray().ToDictionary(job => job.GetProperty("name").GetString()!);
        Assert.Equal(CronJobCatalog.All.Select(job => job.Name).Order(), jobs.Keys.Order());
        var stuck = jobs[CronJobCatalog.StuckJobRecovery];
        Assert.Equal(4, stuck.GetProperty("executions").GetInt32());
        Assert.Equal((2, 1, 1), (stuck.GetProperty("completed").GetInt32(), stuck.GetProperty("failed").GetInt32(), stuck.GetProperty("running").GetInt32()));
        Assert.Equal(2.0 / 3, stuck.GetProperty("successRate").GetDouble(), 6);
        Assert.Equal(200, stuck.GetProperty("averageDurationMs").GetDouble(), 6);
        Assert.Equal((11L, 8L, 3L, 2L, 1L), (stuck.GetProperty("itemsFound").GetInt64(), stuck.GetProperty("itemsProcessed").GetInt64(),
            stuck.GetProperty("itemsFailed").GetInt64(), stuck.GetProperty("itemsSkipped").GetInt64(), stuck.GetProperty("processingErrors").GetInt64()));
        Assert.Equal("running", stuck.GetProperty("lastStatus").GetString());
        var idle = jobs[CronJobCatalog.Retention];
        Assert.Equal(0, idle.GetProperty("executions").GetInt32());
        Assert.Equal(JsonValueKind.Null, idle.GetProperty("successRate").ValueKind);

        var wider = await GetJsonAsync("/api/admin/cron-jobs/stats?hours=240");
        var stuckWider = wider.GetProperty("jobs").EnumerateArray().Single(job => job.GetProperty("name").GetString() == CronJobCatalog.StuckJobRecovery);
        Assert.Equal(5, stuckWider.GetProperty("executions").GetInt32());
        Assert.Equal(0.5, stuckWider.GetProperty("successRate").GetDouble(), 6);
    }

    [Theory]
    [InlineData("0")]
    [InlineData("2161")]
    public async Task Stats_HoursOutOfRange_Is400(string hours)
    {
        var response = await AdminClient().GetAsync($"/api/admin/cron-jobs/stats?hours={hours}", Cancellation);

        await AssertProblemAsync(response, HttpStatusCode.BadRequest, ProblemTypes.Validation);
    }

    [Fact]
    public async Task Trigger_UnknownJob_Is404Problem()
    {
        var response = await AdminClient().PostAsync("/api/admin/cron-jobs/daily-digest/trigger", null, Cancellation);

        var problem = await AssertProblemAsync(response, HttpStatusCode.NotFound, ProblemTypes.NotFound);
        Assert.Contains("daily-digest", problem.GetProperty("detail").GetString());
    }

    [Fact]
    public async Task Trigger_GoesThroughQuartzsStore_AndAStartedReplicaRunsTheJob()
    {
        QuartzTestNode.GatedJob.Close();
        QuartzTestNode.GatedJob.Open();
        await using var node = await QuartzTestNode.StartAsync(_database, CronJobCatalog.Retention);

        var response = await AdminClient().PostAsync("/api/admin/cron-jobs/retention/trigger", null, Cancellation);

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync(Cancellation)).RootElement;
        Assert.Equal(CronJobCatalog.Retention, body.GetProperty("jobName").GetString());
        Assert.Equal(_now, body.GetProperty("requestedAt").GetDateTimeOffset());
        Assert.Equal("/api/admin/cron-jobs?job=retention", response.Headers.Location?.OriginalString);
        await WaitUntilAsync(() => QuartzTestNode.GatedJob.Runs == 1, "the node to run the triggered job");
    }

    [Fact]
    public async Task Trigger_WhileARunExecutes_Is409_AndAcceptedOnceItHasFinished()
    {
        QuartzTestNode.GatedJob.Close();
        await using var node = await QuartzTestNode.StartAsync(_database, CronJobCatalog.StuckJobRecovery);
        var running = await SeedRunAsync(CronJobCatalog.StuckJobRecovery, _now.AddSeconds(-5), CronJobStatus.Running);
        await node.FireAsync(CronJobCatalog.StuckJobRecovery);
        await WaitUntilAsync(() => QuartzTestNode.GatedJob.Started == 1, "the run to start");

        var conflict = await AdminClient().PostAsync("/api/admin/cron-jobs/stuck-job-recovery/trigger", null, Cancellation);

        var problem = await AssertProblemAsync(conflict, HttpStatusCode.Conflict, ProblemTypes.Conflict);
        Assert.Equal(running, problem.GetProperty("executionId").GetGuid());
        QuartzTestNode.GatedJob.Open();
        await WaitUntilAsync(() => QuartzTestNode.GatedJob.Runs == 1, "the run to finish");
        await WaitUntilAsync(async () => (await AdminClient().PostAsync("/api/admin/cron-jobs/stuck-job-recovery/trigger", null, Cancellation)).StatusCode
            == HttpStatusCode.Accepted, "the trigger to be accepted");
    }

    [Fact]
    public async Task Trigger_RunningRowWithNoExecutingFiring_IsAnOrphan_AndDoesNotBlock()
    {
        QuartzTestNode.GatedJob.Close();
        QuartzTestNode.GatedJob.Open();
        await using var node = await QuartzTestNode.StartAsync(_database, CronJobCatalog.DeferredRelease);
        await SeedRunAsync(CronJobCatalog.DeferredRelease, _now.AddHours(-2), CronJobStatus.Running);

        var response = await AdminClient().PostAsync("/api/admin/cron-jobs/deferred-release/trigger", null, Cancellation);

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
    }

    [Fact]
    public async Task Trigger_BeforeAnySchedulerReplicaStoredTheJobs_Is503()
    {
        var response = await AdminClient().PostAsync("/api/admin/cron-jobs/quota-reconcile/trigger", null, Cancellation);

        await AssertProblemAsync(response, HttpStatusCode.ServiceUnavailable, ProblemTypes.ServiceUnavailable);
    }

    /// <summary>Postgres keeps microseconds; whole milliseconds round-trip exactly. Tokens are checked against the real clock.</summary>
    private static DateTimeOffset WholeMilliseconds(DateTimeOffset instant) =>
        new(instant.UtcTicks - instant.UtcTicks % TimeSpan.TicksPerMillisecond, TimeSpan.Zero);

    private HttpClient AdminClient() => _api.CreateClient(_api.IssueToken($"admin-{Guid.NewGuid():N}", roles: ["admin"]));

    private async Task<JsonElement> GetJsonAsync(string route)
    {
        var response = await AdminClient().GetAsync(route, Cancellation);
        var body = await response.Content.ReadAsStringAsync(Cancellation);
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{route}: {(int)response.StatusCode} {body}");
        return JsonDocument.Parse(body).RootElement;
    }

    private async Task<Guid> SeedRunAsync(
        string jobName, DateTimeOffset startedAt, CronJobStatus status, long durationMs = 1000,
        int found = 0, int completed = 0, int failed = 0, int skipped = 0, int errors = 0, string? error = null)
    {
        var finished = status != CronJobStatus.Running;
        var run = new CronJobExecution
        {
            JobName = jobName,
            StartedAt = startedAt,
            Status = status,
            CompletedAt = finished ? startedAt.AddMilliseconds(durationMs) : null,
            DurationMs = finished ? durationMs : null,
            Results = finished ? JsonSerializer.SerializeToDocument(new { found, completed, failed, skipped, errors }) : null,
            ErrorMessage = error,
        };
        await using var db = TestDatabase.CreateContext(_database);
        db.CronJobExecutions.Add(run);
        await db.SaveChangesAsync(Cancellation);
        return run.Id;
    }

    private static Task WaitUntilAsync(Func<bool> condition, string what) => WaitUntilAsync(() => Task.FromResult(condition()), what);

    private static async Task WaitUntilAsync(Func<Task<bool>> condition, string what)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"Gave up waiting for {what}.");
            }
            await Task.Delay(50, Cancellation);
        }
    }
}
