using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Notifications.Domain.Model;
using Notifications.Domain.Redis;
using Notifications.Domain.Scheduling;
using Notifications.Scheduler.Cron;
using Notifications.Testing.Fakes;
using StackExchange.Redis;

namespace Notifications.Scheduler.Tests.Cron;

/// <summary>
/// Every run through <see cref="CronJobRunner"/> is recorded in <c>cron_job_executions</c>, orphaned runs are marked
/// failed, and runs that fail or cross a threshold alert the operators once — through a fake Slack and Discord.
/// </summary>
[Collection(SchedulerTestCollection.Name)]
public sealed class CronRunTrackingTests(TestServers servers) : IAsyncLifetime
{
    private static readonly DateTimeOffset Now = CronJobsHost.DefaultNow;
    private static CancellationToken Cancellation => TestContext.Current.CancellationToken;
    private FakeWebhookServer _webhooks = null!;

    public async ValueTask InitializeAsync() => _webhooks = await FakeWebhookServer.StartNewAsync();

    public ValueTask DisposeAsync() => _webhooks.DisposeAsync();

    [Fact]
    public async Task CompletedRun_IsRecordedWithItsTimesAndCounts_AndDoesNotAlert()
    {
        await using var host = await StartAsync();
        var user = await host.Data.UserAsync(Now);
        await host.Data.ScheduleAsync(user, Now.AddMinutes(-1));
        await host.Data.PendingDigestJobsAsync(user, Now.AddHours(-1));

        var outcome = await host.RunAsync(CronJobCatalog.DigestDispatch);

        var row = await ExecutionAsync(host, outcome.ExecutionId!.Value);
        Assert.Equal((CronJobCatalog.DigestDispatch, CronJobStatus.Completed, Now), (row.JobName, row.Status, row.StartedAt));
        Assert.NotNull(row.CompletedAt);
        Assert.NotNull(row.DurationMs);
        Assert.Null(row.ErrorMessage);
        var results = row.Results!.RootElement;
        Assert.Equal((1, 1, 0, 0, 0), (results.GetProperty("found").GetInt32(), results.GetProperty("completed").GetInt32(),
            results.GetProperty("failed").GetInt32(), results.GetProperty("skipped").GetInt32(), results.GetProperty("errors").GetInt32()));
        Assert.Empty(_webhooks.Requests);
    }

    [Fact]
    public async Task FailingRun_IsRecordedFailedWithItsErrorAndPartialCounts_AndAlertsOnceNamingTheRun()
    {
        await using var host = await StartAsync(async tally =>
        {
            tally.Add(found: 3, completed: 1);
            await Task.Yield();
            throw new InvalidOperationException("the disk is full");
        });

        var outcome = await host.RunAsync(CronJobCatalog.Retention);

        Assert.Equal(CronJobStatus.Failed, outcome.Status);
        var row = await ExecutionAsync(host, outcome.ExecutionId!.Value);
        Assert.Equal(CronJobStatus.Failed, row.Status);
        Assert.Equal("the disk is full", row.ErrorMessage);
        Assert.Equal(3, row.Results!.RootElement.GetProperty("found").GetInt32());
        Assert.Equal(1, row.Results.RootElement.GetProperty("completed").GetInt32());

        var slack = Assert.Single(await _webhooks.WaitForRequestsAsync(FakeWebhookServer.SlackPath, 1));
        Assert.Single(_webhooks.DiscordMessages);
        var attachment = slack.Json.GetProperty("attachments")[0];
        Assert.Equal("Cron job retention failed", attachment.GetProperty("title").GetString());
        var fields = attachment.GetProperty("fields").EnumerateArray()
            .ToDictionary(field => field.GetProperty("title").GetString()!, field => field.GetProperty("value").GetString());
        Assert.Equal("retention", fields["Job"]);
        Assert.Equal("FAILED", fields["Status"]);
        Assert.Equal(outcome.ExecutionId.ToString(), fields["Execution id"]);
        Assert.Contains("Found: 3, Completed: 1, Failed: 0", fields["Results"]);
        Assert.Equal("the disk is full", fields["Error"]);
        Assert.Contains("Duration", fields.Keys);
    }

    [Fact]
    public async Task AJobFailingRunAfterRun_PostsOncePerCooldown_WhileAnotherKindOfAlertStillPosts()
    {
        string[] cooldowns = [RedisKeys.CronAlertCooldown(CronJobCatalog.Retention, "failed"), RedisKeys.CronAlertCooldown(CronJobCatalog.Retention, "failures")];
        var runs = 0;
        await using var host = await StartAsync(async tally =>
        {
            await Task.Yield();
            if (++runs <= 3)
            {
                throw new InvalidOperationException("the disk is full");
            }
            tally.Add(found: 4, completed: 1, failed: 3);
        }, new Dictionary<string, string?> { ["Scheduler:Alerts:RepeatCooldown"] = "01:00:00" });
        await host.Redis.KeyDeleteAsync([.. cooldowns.Select(key => (RedisKey)key)]);
        try
        {
            for (var run = 0; run < 4; run++)
            {
                await host.RunAsync(CronJobCatalog.Retention);
            }

            var alerts = await _webhooks.WaitForRequestsAsync(FakeWebhookServer.SlackPath, 2);
            Assert.Equal(
                ["Cron job retention failed", "Cron job retention had failures"],
                alerts.Select(alert => alert.Json.GetProperty("attachments")[0].GetProperty("title").GetString()));
            Assert.Equal(2, _webhooks.DiscordMessages.Count);
        }
        finally
        {
            await host.Redis.KeyDeleteAsync([.. cooldowns.Select(key => (RedisKey)key)]);
        }
    }

    [Fact]
    public async Task RunStillMarkedRunning_WhenTheNextRunStarts_IsMarkedFailedAsOrphaned()
    {
        await using var host = await StartAsync();
        var orphan = new CronJobExecution { JobName = CronJobCatalog.DeferredRelease, StartedAt = Now.AddMinutes(-7) };
        var otherJob = new CronJobExecution { JobName = CronJobCatalog.Retention, StartedAt = Now.AddMinutes(-7) };
        await using (var db = host.Data.Context())
        {
            db.CronJobExecutions.AddRange(orphan, otherJob);
            await db.SaveChangesAsync(Cancellation);
        }

        var outcome = await host.RunAsync(CronJobCatalog.DeferredRelease);

        var marked = await ExecutionAsync(host, orphan.Id);
        Assert.Equal(CronJobStatus.Failed, marked.Status);
        Assert.Equal(Now, marked.CompletedAt);
        Assert.StartsWith("Orphaned", marked.ErrorMessage);
        Assert.Equal(CronJobStatus.Running, (await ExecutionAsync(host, otherJob.Id)).Status);
        Assert.Equal(CronJobStatus.Completed, (await ExecutionAsync(host, outcome.ExecutionId!.Value)).Status);
        var alert = Assert.Single(await _webhooks.WaitForRequestsAsync(FakeWebhookServer.SlackPath, 1));
        Assert.Contains("deferred-release", alert.Json.GetProperty("text").GetString());
    }

    [Theory]
    [InlineData(4, 1, 3, 0, "3 of 4 items failed, more than 50")]    // error rate over 50% with at least 3 items
    [InlineData(20, 15, 5, 0, "5 items failed (alert at 5)")]         // at least 5 items failed
    [InlineData(10, 10, 0, 3, "3 processing errors (alert at 3)")]    // at least 3 processing errors
    public async Task EachThreshold_CrossedAlone_SendsOneAlertWithItsReason(int found, int completed, int failed, int errors, string reason)
    {
        await using var host = await StartAsync(Counting(found, completed, failed, errors));

        var outcome = await host.RunAsync(CronJobCatalog.Retention);

        Assert.Equal(CronJobStatus.Completed, outcome.Status);
        var slack = Assert.Single(await _webhooks.WaitForRequestsAsync(FakeWebhookServer.SlackPath, 1));
        var attachment = slack.Json.GetProperty("attachments")[0];
        Assert.Equal("Cron job retention had failures", attachment.GetProperty("title").GetString());
        Assert.Contains(reason, attachment.GetProperty("text").GetString());
        Assert.Single(_webhooks.DiscordMessages);
    }

    [Theory]
    [InlineData(2, 0, 2, 0)]    // every item failed, but fewer than 3 items
    [InlineData(10, 6, 4, 2)]   // 40% failed, 4 failed, 2 errors: under every threshold
    public async Task RunUnderEveryThreshold_DoesNotAlert(int found, int completed, int failed, int errors)
    {
        await using var host = await StartAsync(Counting(found, completed, failed, errors));

        await host.RunAsync(CronJobCatalog.Retention);
        await host.RunAsync(CronJobCatalog.DeferredRelease);

        Assert.Empty(_webhooks.Requests);
    }

    [Fact]
    public async Task ThresholdsAreConfigurable()
    {
        await using var host = await StartAsync(Counting(10, 8, 2, 0), new Dictionary<string, string?> { ["Scheduler:Alerts:FailedItemsThreshold"] = "2" });

        await host.RunAsync(CronJobCatalog.Retention);

        Assert.Single(await _webhooks.WaitForRequestsAsync(FakeWebhookServer.SlackPath, 1));
    }

    [Fact]
    public async Task WebhooksFailing_DoNotFailTheRun()
    {
        _webhooks.FailWith(500);
        await using var host = await StartAsync(Counting(10, 10, 0, 5));

        var outcome = await host.RunAsync(CronJobCatalog.Retention);

        Assert.Equal(CronJobStatus.Completed, outcome.Status);
        Assert.Equal(CronJobStatus.Completed, (await ExecutionAsync(host, outcome.ExecutionId!.Value)).Status);
        await _webhooks.WaitForRequestsAsync(FakeWebhookServer.SlackPath, 1);
    }

    private Task<CronJobsHost> StartAsync(Func<CronRunTally, Task>? retention = null, Dictionary<string, string?>? settings = null)
    {
        // Every alert posts unless a test asks for the cooldown: the tests share one Redis.
        var all = new Dictionary<string, string?> { ["Scheduler:Alerts:RepeatCooldown"] = "00:00:00" };
        foreach (var (key, value) in settings ?? [])
        {
            all[key] = value;
        }
        all["Alerts:SlackWebhookUrl"] = _webhooks.SlackWebhookUrl.ToString();
        all["Alerts:DiscordWebhookUrl"] = _webhooks.DiscordWebhookUrl.ToString();
        return CronJobsHost.StartAsync(servers, all, configure: retention is null ? null : services =>
            services.AddKeyedScoped<ICronJob>(CronJobCatalog.Retention, (_, _) => new StubJob(retention)));
    }

    private static Func<CronRunTally, Task> Counting(int found, int completed, int failed, int errors) => tally =>
    {
        tally.Add(found, completed, failed);
        for (var i = 0; i < errors; i++)
        {
            tally.AddError(new TimeoutException($"step {i} timed out"));
        }
        return Task.CompletedTask;
    };

    private static async Task<CronJobExecution> ExecutionAsync(CronJobsHost host, Guid id)
    {
        await using var db = host.Data.Context();
        return await db.CronJobExecutions.AsNoTracking().SingleAsync(execution => execution.Id == id, Cancellation);
    }

    private sealed class StubJob(Func<CronRunTally, Task> run) : ICronJob
    {
        public Task RunAsync(CronRunTally tally, CancellationToken cancellationToken) => run(tally);
    }
}
