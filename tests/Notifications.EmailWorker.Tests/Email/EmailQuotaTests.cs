using System.Collections.Concurrent;
using Microsoft.Extensions.Time.Testing;
using Notifications.Domain.Model;
using Notifications.Domain.Quota;
using Notifications.Domain.Redis;
using Notifications.EmailWorker.Delivery;
using Notifications.Testing.Fakes;

namespace Notifications.EmailWorker.Tests.Email;

/// <summary>
/// The email quota through the deliverer, against one Redis shared by several hosts (workers): the limits hold under
/// concurrency, high/critical bypass but count, the lock stops the provider until the window resets, slots come back
/// when the provider fails, alerts fire once per threshold, and each user has a rate limit.
/// </summary>
[Collection(WorkerTestCollection.Name)]
public sealed class EmailQuotaTests(TestServers servers) : IAsyncDisposable
{
    private static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    private readonly FakeTimeProvider _clock = EmailChannelHost.FreshMonthClock();
    private readonly List<IAsyncDisposable> _disposables = [];

    private EmailTestData Data => new(servers, _clock);

    private DateTimeOffset NextMidnight => EmailQuotaCalendar.NextDay(_clock.GetUtcNow());

    public async ValueTask DisposeAsync()
    {
        foreach (var disposable in _disposables)
        {
            await disposable.DisposeAsync();
        }
    }

    [Fact]
    public async Task ThreeWorkersWithTwentyConcurrentSendersEach_SendExactlyTheDailyLimitAndDeferTheRest()
    {
        const int limit = 25;
        var workers = await WorkersAsync(3, new() { ["Email:Quota:DailyLimit"] = $"{limit}", ["Email:UserRateLimit:Enabled"] = "false" });
        var attempts = await Data.EmailsAsync(await Data.UserAsync(), 90);

        var results = await SendConcurrentlyAsync(workers, sendersPerWorker: 20, attempts);

        Assert.Equal(limit, results.Count(result => result is DeliveryResult.Sent));
        var deferred = results.OfType<DeliveryResult.QuotaExceeded>().ToList();
        Assert.Equal(90 - limit, deferred.Count);
        Assert.All(deferred, result => Assert.Equal(NextMidnight, result.RetryAt));
        Assert.Equal(limit, await Data.MailboxCountAsync(attempts));
        var usage = await workers[0].Quota.ReadUsageAsync();
        Assert.Equal(limit, usage.DayCount);
        Assert.Equal(limit, usage.MonthCount);
        Assert.Equal(NextMidnight, usage.LockedUntil);
    }

    [Fact]
    public async Task ThreeWorkersWithTwentyConcurrentSendersEach_NeverExceedTheMonthlyLimit()
    {
        const int limit = 12;
        var workers = await WorkersAsync(3, new() { ["Email:Quota:MonthlyLimit"] = $"{limit}", ["Email:UserRateLimit:Enabled"] = "false" });
        var attempts = await Data.EmailsAsync(await Data.UserAsync(), 45);

        var results = await SendConcurrentlyAsync(workers, sendersPerWorker: 20, attempts);

        Assert.Equal(limit, results.Count(result => result is DeliveryResult.Sent));
        var firstOfNextMonth = EmailQuotaCalendar.NextMonth(_clock.GetUtcNow());
        Assert.All(results.OfType<DeliveryResult.QuotaExceeded>(), result => Assert.Equal(firstOfNextMonth, result.RetryAt));
        Assert.Equal(45 - limit, results.Count(result => result is DeliveryResult.QuotaExceeded));
        Assert.Equal(limit, (await workers[0].Quota.ReadUsageAsync()).MonthCount);
        Assert.Equal(EmailQuotaCalendar.Format(firstOfNextMonth), (string?)await workers[0].Redis.StringGetAsync(RedisKeys.EmailQuotaLock));
    }

    [Fact]
    public async Task HighAndCriticalPriority_BypassAReachedLimitButAreCounted()
    {
        var worker = (await WorkersAsync(1, new() { ["Email:Quota:DailyLimit"] = "3" }))[0];
        var user = await Data.UserAsync();
        foreach (var attempt in await Data.EmailsAsync(user, 3))
        {
            Assert.IsType<DeliveryResult.Sent>(await worker.Deliverer.DeliverAsync(attempt, Cancellation));
        }

        var normal = await worker.Deliverer.DeliverAsync((await Data.EmailsAsync(user, 1))[0], Cancellation);
        var high = await worker.Deliverer.DeliverAsync((await Data.EmailsAsync(user, 1, NotificationPriority.High))[0], Cancellation);
        var critical = await worker.Deliverer.DeliverAsync((await Data.EmailsAsync(user, 1, NotificationPriority.Critical))[0], Cancellation);

        Assert.IsType<DeliveryResult.QuotaExceeded>(normal);
        Assert.IsType<DeliveryResult.Sent>(high);
        Assert.IsType<DeliveryResult.Sent>(critical);
        var usage = await worker.Quota.ReadUsageAsync();
        Assert.Equal(5, usage.DayCount);
        Assert.Equal(5, usage.MonthCount);
    }

    [Fact]
    public async Task SendPermit_IsTakenOnlyByEmailsThatReachTheProvider_SoDeferralsAndSkipsNeverWaitBehindTheRateLimit()
    {
        var worker = (await WorkersAsync(1, new() { ["Email:Quota:DailyLimit"] = "1" }))[0];
        var user = await Data.UserAsync();
        var permits = 0;
        DeliveryAttempt Counted(DeliveryAttempt attempt) => attempt with
        {
            SendPermit = _ =>
            {
                Interlocked.Increment(ref permits);
                return ValueTask.CompletedTask;
            },
        };

        Assert.IsType<DeliveryResult.Sent>(await worker.Deliverer.DeliverAsync(Counted((await Data.EmailsAsync(user, 1))[0]), Cancellation));
        Assert.Equal(1, permits);

        // The limit is reached (Redis refuses and locks), then the lock is known locally: neither asks for a permit.
        foreach (var attempt in await Data.EmailsAsync(user, 2))
        {
            Assert.IsType<DeliveryResult.QuotaExceeded>(await worker.Deliverer.DeliverAsync(Counted(attempt), Cancellation));
        }
        var emailOff = await Data.UserAsync(emailEnabled: false);
        Assert.IsType<DeliveryResult.Skipped>(await worker.Deliverer.DeliverAsync(Counted(await Data.EmailAsync(emailOff)), Cancellation));
        Assert.Equal(1, permits);

        // Critical bypasses the lock, so it reaches the provider and takes its permit.
        var critical = (await Data.EmailsAsync(user, 1, NotificationPriority.Critical))[0];
        Assert.IsType<DeliveryResult.Sent>(await worker.Deliverer.DeliverAsync(Counted(critical), Cancellation));
        Assert.Equal(2, permits);
    }

    [Fact]
    public async Task Lock_WhileItHolds_DefersWithoutCountingOrCallingTheProvider_AndLiftsAtTheNextUtcMidnight()
    {
        var resend = await ResendAsync();
        var worker = (await WorkersAsync(1, ResendSettings(resend, new() { ["Email:Quota:DailyLimit"] = "2" })))[0];
        var user = await Data.UserAsync();
        var attempts = await Data.EmailsAsync(user, 5);

        Assert.IsType<DeliveryResult.Sent>(await worker.Deliverer.DeliverAsync(attempts[0], Cancellation));
        Assert.IsType<DeliveryResult.Sent>(await worker.Deliverer.DeliverAsync(attempts[1], Cancellation));
        var exhausted = Assert.IsType<DeliveryResult.QuotaExceeded>(await worker.Deliverer.DeliverAsync(attempts[2], Cancellation));
        Assert.Equal(NextMidnight, exhausted.RetryAt);
        Assert.Equal(EmailQuotaCalendar.Format(NextMidnight), (string?)await worker.Redis.StringGetAsync(RedisKeys.EmailQuotaLock));

        // Another worker (its own connection, nothing seen locally) honours the lock too.
        var other = (await WorkersAsync(1, ResendSettings(resend, new() { ["Email:Quota:DailyLimit"] = "2" })))[0];
        var locked = Assert.IsType<DeliveryResult.QuotaExceeded>(await other.Deliverer.DeliverAsync(attempts[3], Cancellation));
        Assert.Equal(NextMidnight, locked.RetryAt);
        Assert.Equal(2, resend.Emails.Count);
        Assert.Equal(2, (await worker.Quota.ReadUsageAsync()).DayCount);

        _clock.SetUtcNow(NextMidnight);

        Assert.IsType<DeliveryResult.Sent>(await worker.Deliverer.DeliverAsync(attempts[4], Cancellation));
        Assert.Equal(3, resend.Emails.Count);
        var usage = await worker.Quota.ReadUsageAsync();
        Assert.Equal(1, usage.DayCount);
        Assert.Equal(3, usage.MonthCount);
        Assert.Null(usage.LockedUntil);
    }

    [Theory]
    [InlineData(500)]
    [InlineData(422)]
    public async Task ProviderFailure_GivesTheQuotaSlotAndTheRateLimitPlaceBack(int status)
    {
        var resend = await ResendAsync();
        var worker = (await WorkersAsync(1, ResendSettings(resend, new() { ["Email:UserRateLimit:Limit"] = "1" })))[0];
        var user = await Data.UserAsync();
        var attempts = await Data.EmailsAsync(user, 2);
        resend.FailNext(1, status == 500 ? ResendFailure.InternalServerError : ResendFailure.ValidationError);

        var failed = await worker.Deliverer.DeliverAsync(attempts[0], Cancellation);

        Assert.Equal(status == 500 ? DeliveryOutcome.TransientFailure : DeliveryOutcome.PermanentFailure, failed.Outcome);
        var usage = await worker.Quota.ReadUsageAsync();
        Assert.Equal(0, usage.DayCount);
        Assert.Equal(0, usage.MonthCount);
        // The user's only place was given back too.
        Assert.IsType<DeliveryResult.Sent>(await worker.Deliverer.DeliverAsync(attempts[1], Cancellation));
        Assert.Equal(1, (await worker.Quota.ReadUsageAsync()).DayCount);
    }

    [Fact]
    public async Task ProviderDailyQuotaExceeded_LocksUntilMidnightAndStopsCallingTheProviderForNormalEmail()
    {
        var resend = await ResendAsync();
        var worker = (await WorkersAsync(1, ResendSettings(resend)))[0];
        var user = await Data.UserAsync();
        var attempts = await Data.EmailsAsync(user, 2);
        resend.FailNext(1, ResendFailure.DailyQuotaExceeded);

        var refused = Assert.IsType<DeliveryResult.QuotaExceeded>(await worker.Deliverer.DeliverAsync(attempts[0], Cancellation));

        Assert.Equal(NextMidnight, refused.RetryAt);
        Assert.Equal("resend", refused.Provider);
        Assert.Equal(429, refused.HttpStatusCode);
        Assert.Contains("daily_quota_exceeded", refused.ResponseExcerpt);
        Assert.Equal(EmailQuotaCalendar.Format(NextMidnight), (string?)await worker.Redis.StringGetAsync(RedisKeys.EmailQuotaLock));
        Assert.Equal(0, (await worker.Quota.ReadUsageAsync()).DayCount);
        var requests = resend.Requests.Count;

        Assert.IsType<DeliveryResult.QuotaExceeded>(await worker.Deliverer.DeliverAsync(attempts[1], Cancellation));
        Assert.Equal(requests, resend.Requests.Count);
        var critical = (await Data.EmailsAsync(user, 1, NotificationPriority.Critical))[0];
        Assert.IsType<DeliveryResult.Sent>(await worker.Deliverer.DeliverAsync(critical, Cancellation));
    }

    [Fact]
    public async Task Alerts_At80And90And100Percent_ArePostedOnceEachAcrossWorkers()
    {
        var webhooks = await WebhooksAsync();
        var workers = await WorkersAsync(3, new()
        {
            ["Email:Quota:DailyLimit"] = "10",
            ["Email:UserRateLimit:Enabled"] = "false",
            ["Alerts:SlackWebhookUrl"] = webhooks.SlackWebhookUrl.ToString(),
            ["Alerts:DiscordWebhookUrl"] = webhooks.DiscordWebhookUrl.ToString(),
        });
        var attempts = await Data.EmailsAsync(await Data.UserAsync(), 14, NotificationPriority.High);

        var results = await SendConcurrentlyAsync(workers, sendersPerWorker: 5, attempts);

        Assert.All(results, result => Assert.IsType<DeliveryResult.Sent>(result));
        var slack = (await webhooks.WaitForRequestsAsync(FakeWebhookServer.SlackPath, 3)).Select(request => request.Json).ToList();
        await webhooks.WaitForRequestsAsync(FakeWebhookServer.DiscordPath, 3);
        var colours = slack.ToDictionary(
            message => message.GetProperty("attachments")[0].GetProperty("title").GetString()!,
            message => message.GetProperty("attachments")[0].GetProperty("color").GetString());
        Assert.Equal(new Dictionary<string, string?>
        {
            ["Email quota at 80% of the daily limit"] = "#FFA500",
            ["Email quota at 90% of the daily limit"] = "#FF4500",
            ["Email quota at 100% of the daily limit"] = "#DC143C",
        }, colours);
        Assert.Equal(3, webhooks.SlackMessages.Count);
    }

    [Fact]
    public async Task Alerts_WebhookFailing_NeverFailsASend()
    {
        var webhooks = await WebhooksAsync();
        webhooks.FailWith(500);
        var worker = (await WorkersAsync(1, new()
        {
            ["Email:Quota:DailyLimit"] = "2",
            ["Alerts:SlackWebhookUrl"] = webhooks.SlackWebhookUrl.ToString(),
        }))[0];
        var attempts = await Data.EmailsAsync(await Data.UserAsync(), 2);

        Assert.IsType<DeliveryResult.Sent>(await worker.Deliverer.DeliverAsync(attempts[0], Cancellation));
        Assert.IsType<DeliveryResult.Sent>(await worker.Deliverer.DeliverAsync(attempts[1], Cancellation));

        // 50% (1 of 2) crossed nothing; the second email crossed 80, 90 and 100 at once: three refused posts.
        await webhooks.WaitForRequestsAsync(FakeWebhookServer.SlackPath, 3);
    }

    [Fact]
    public async Task UserRateLimit_OverTheLimit_DefersUntilTheOldestEmailLeavesTheWindow_CriticalBypasses_RetriesCountOnce()
    {
        var worker = (await WorkersAsync(1, new() { ["Email:UserRateLimit:Limit"] = "3", ["Email:UserRateLimit:Window"] = "01:00:00" }))[0];
        var user = await Data.UserAsync();
        var attempts = await Data.EmailsAsync(user, 4);
        var first = _clock.GetUtcNow();
        for (var i = 0; i < 3; i++)
        {
            Assert.IsType<DeliveryResult.Sent>(await worker.Deliverer.DeliverAsync(attempts[i], Cancellation));
            _clock.Advance(TimeSpan.FromMinutes(1));
        }

        var limited = Assert.IsType<DeliveryResult.QuotaExceeded>(await worker.Deliverer.DeliverAsync(attempts[3], Cancellation));
        Assert.Equal(first.AddHours(1), limited.RetryAt);
        Assert.Equal("redis", limited.Provider);
        var critical = (await Data.EmailsAsync(user, 1, NotificationPriority.Critical))[0];
        Assert.IsType<DeliveryResult.Sent>(await worker.Deliverer.DeliverAsync(critical, Cancellation));
        // A job already counted is attempted again (e.g. redelivered): it keeps its place, it takes no new one.
        Assert.IsType<DeliveryResult.Sent>(await worker.Deliverer.DeliverAsync(attempts[2] with { Number = 2 }, Cancellation));
        // Another user is not limited by this one.
        Assert.IsType<DeliveryResult.Sent>(await worker.Deliverer.DeliverAsync((await Data.EmailsAsync(await Data.UserAsync(), 1))[0], Cancellation));

        _clock.SetUtcNow(first.AddHours(1));

        Assert.IsType<DeliveryResult.Sent>(await worker.Deliverer.DeliverAsync(attempts[3], Cancellation));
    }

    [Fact]
    public async Task Restore_RaisesCountersToWhatWasSentButNeverLowersThem()
    {
        var worker = (await WorkersAsync(1))[0];
        var today = EmailQuotaCalendar.UtcDay(_clock.GetUtcNow());
        await worker.Deliverer.DeliverAsync((await Data.EmailsAsync(await Data.UserAsync(), 1))[0], Cancellation);

        Assert.Equal((7L, 40L), await worker.Quota.RestoreAsync(today, sentThatDay: 7, sentThatMonth: 40));
        Assert.Equal((7L, 40L), await worker.Quota.RestoreAsync(today, sentThatDay: 3, sentThatMonth: 30));

        var usage = await worker.Quota.ReadUsageAsync();
        Assert.Equal(7, usage.DayCount);
        Assert.Equal(40, usage.MonthCount);
        Assert.True(await worker.Redis.KeyTimeToLiveAsync(RedisKeys.EmailQuotaDay(today)) > TimeSpan.Zero);
    }

    private async Task<List<EmailChannelHost>> WorkersAsync(int count, Dictionary<string, string?>? settings = null)
    {
        var workers = new List<EmailChannelHost>();
        for (var i = 0; i < count; i++)
        {
            var worker = await EmailChannelHost.StartAsync(servers, _clock, settings);
            _disposables.Add(worker);
            workers.Add(worker);
        }
        return workers;
    }

    private static async Task<List<DeliveryResult>> SendConcurrentlyAsync(
        IReadOnlyList<EmailChannelHost> workers, int sendersPerWorker, IEnumerable<DeliveryAttempt> attempts)
    {
        var queue = new ConcurrentQueue<DeliveryAttempt>(attempts);
        var results = new ConcurrentBag<DeliveryResult>();
        var senders = workers.Select(worker => worker.Deliverer).ToList().SelectMany(deliverer => Enumerable.Range(0, sendersPerWorker).Select(_ => Task.Run(async () =>
        {
            while (queue.TryDequeue(out var attempt))
            {
                results.Add(await deliverer.DeliverAsync(attempt, Cancellation));
            }
        })));
        await Task.WhenAll(senders);
        return [.. results];
    }

    private async Task<FakeResendServer> ResendAsync()
    {
        var resend = await FakeResendServer.StartNewAsync();
        _disposables.Add(resend);
        return resend;
    }

    private async Task<FakeWebhookServer> WebhooksAsync()
    {
        var webhooks = await FakeWebhookServer.StartNewAsync();
        _disposables.Add(webhooks);
        return webhooks;
    }

    internal static Dictionary<string, string?> ResendSettings(FakeResendServer resend, Dictionary<string, string?>? more = null)
    {
        var settings = new Dictionary<string, string?>
        {
            ["Email:EnableRealEmails"] = "true",
            ["Email:Provider"] = "resend",
            ["Email:From"] = "Acme <notifications@acme.test>",
            ["Email:Resend:ApiKey"] = FakeResendServer.ApiKey,
            ["Email:Resend:BaseUrl"] = resend.BaseUrl.ToString(),
        };
        foreach (var (key, value) in more ?? [])
        {
            settings[key] = value;
        }
        return settings;
    }
}
