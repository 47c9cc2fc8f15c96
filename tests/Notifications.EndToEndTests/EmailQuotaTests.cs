using System.Text.Json;
using Notifications.EndToEndTests.Support;

namespace Notifications.EndToEndTests;

/// <summary>The email quota through the running system: what does not fit today is deferred to midnight UTC, never dropped; critical mail still goes.</summary>
[Collection(QuotaAppHostCollection.Name)]
public sealed class EmailQuotaTests(QuotaAppHost quota) : IDisposable
{
    private readonly NotificationsApiClient _api = new(quota.AppHost);

    public void Dispose() => _api.Dispose();

    [Fact]
    public async Task EmailsPastTheDailyQuota_AreDeferredToMidnightUtc_TheMetricsShowTheLock_AndACriticalEmailStillGoesOut()
    {
        const int count = 4;
        var type = $"e2e.quota.{Guid.NewGuid():N}";
        var producer = await _api.ProducerAsync();
        var admin = await _api.AdminAsync();
        var recipients = await _api.RegisterUsersAsync(producer, count);

        foreach (var recipient in recipients)
        {
            await _api.SendAsync(producer, recipient, type, $"Within the quota or not {recipient.Id}", channels: ["email"]);
        }

        var jobs = await _api.WaitForJobsOfTypeAsync(admin, type, count, "sent", "deferred");
        var sent = jobs.Where(job => job.Str("status") == "sent").ToList();
        var deferred = jobs.Where(job => job.Str("status") == "deferred").ToList();
        Assert.Equal(QuotaAppHost.DailyLimit, sent.Count);
        Assert.Equal(count - QuotaAppHost.DailyLimit, deferred.Count);
        Assert.All(deferred, job => Assert.Equal(NextUtcMidnight(job.GetProperty("updatedAt").GetDateTimeOffset()), job.GetProperty("scheduledFor").GetDateTimeOffset()));
        var mailboxes = new Dictionary<string, int>();
        foreach (var recipient in recipients)
        {
            mailboxes[recipient.Id] = (await _api.MailboxAsync(recipient.Email)).Count;
        }
        Assert.Equal(sent.Select(job => job.Str("userId")!).Order(), mailboxes.Where(mailbox => mailbox.Value == 1).Select(mailbox => mailbox.Key).Order());
        Assert.Equal(QuotaAppHost.DailyLimit, mailboxes.Values.Sum());

        var metrics = await _api.AdminMetricsAsync(admin);
        Assert.Equal(count - QuotaAppHost.DailyLimit, metrics.GetProperty("email").GetProperty("deferredToday").GetInt32());
        var exhausted = Quota(metrics);
        Assert.Equal(QuotaAppHost.DailyLimit, exhausted.GetProperty("dailyUsed").GetInt64());
        Assert.Equal(QuotaAppHost.DailyLimit, exhausted.GetProperty("dailyLimit").GetInt32());
        Assert.Equal(NextUtcMidnight(deferred[0].GetProperty("updatedAt").GetDateTimeOffset()), exhausted.GetProperty("lockedUntil").GetDateTimeOffset());

        var urgent = await _api.RegisterUserAsync(producer);
        var alert = await _api.SendAsync(producer, urgent, "security.alert", "A new sign-in to your account", category: "security", priority: "critical", channels: ["email"]);

        await Poll.UntilAsync(
            "the critical email is sent",
            () => _api.GetJobAsync(admin, alert.Job("email").Id),
            job => job.GetProperty("job").Str("status") == "sent");
        Assert.Single(await _api.MailboxAsync(urgent.Email));
        var afterCritical = await _api.AdminMetricsAsync(admin);
        Assert.Equal(QuotaAppHost.DailyLimit + 1, Quota(afterCritical).GetProperty("dailyUsed").GetInt64());
        Assert.Equal(count - QuotaAppHost.DailyLimit, afterCritical.GetProperty("email").GetProperty("deferredNow").GetInt32());
    }

    private static JsonElement Quota(JsonElement metrics) => metrics.GetProperty("email").GetProperty("quota");

    private static DateTimeOffset NextUtcMidnight(DateTimeOffset instant) => new(instant.UtcDateTime.Date.AddDays(1), TimeSpan.Zero);
}
