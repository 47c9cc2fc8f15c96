using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Notifications.Domain.Model;
using Notifications.Domain.Redis;
using Notifications.Domain.Scheduling;
using Notifications.Scheduler.Quota;

namespace Notifications.Scheduler.Tests.Quota;

/// <summary>
/// <c>quota-reconcile</c>: snapshots the day's Redis counter, and rebuilds counters Redis lost. Each test uses a day of
/// its own, so the shared Redis holds no other test's counters for it.
/// </summary>
[Collection(SchedulerTestCollection.Name)]
public sealed class QuotaReconcileTests(TestServers servers)
{
    private static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    [Fact]
    public async Task CounterPresent_IsSnapshottedForTheDay_AndASecondRunUpdatesTheSnapshot()
    {
        var now = new DateTimeOffset(2032, 3, 10, 23, 59, 0, TimeSpan.Zero);
        await using var host = await CronJobsHost.StartAsync(servers, now: now);
        var day = DateOnly.FromDateTime(now.UtcDateTime);
        await host.Redis.StringSetAsync(RedisKeys.EmailQuotaDay(day), 42, TimeSpan.FromMinutes(5));

        var first = await host.RunAsync(CronJobCatalog.QuotaReconcile);
        await host.Redis.StringSetAsync(RedisKeys.EmailQuotaDay(day), 57, TimeSpan.FromMinutes(5));
        host.Time.Advance(TimeSpan.FromSeconds(30));
        await host.RunAsync(CronJobCatalog.QuotaReconcile);

        Assert.Equal(CronJobStatus.Completed, first.Status);
        await using var db = host.Data.Context();
        var snapshot = await db.EmailUsageSnapshots.AsNoTracking().SingleAsync(row => row.Day == day, Cancellation);
        Assert.Equal(57, snapshot.SentCount);
        Assert.Equal(now.AddSeconds(30), snapshot.SnapshotAt);
    }

    [Fact]
    public async Task LostDayCounter_IsRestoredFromTheDeliveryLogs_WhenThoseCountMore_WithATtlToTheEndOfTheUtcDay()
    {
        var now = new DateTimeOffset(2032, 4, 7, 18, 0, 0, TimeSpan.Zero);
        await using var host = await CronJobsHost.StartAsync(servers, now: now);
        var day = DateOnly.FromDateTime(now.UtcDateTime);
        await ForgetCountersAsync(host, day);
        await SnapshotAsync(host, day, 3);
        var user = await host.Data.UserAsync(now);
        for (var i = 0; i < 5; i++)
        {
            var job = await host.Data.JobAsync(user, DeliveryJobStatus.Sent, now.AddHours(-2));
            await host.Data.DeliveryLogAsync(job, DeliveryOutcome.Sent, now.AddHours(-2).AddMinutes(i));
        }
        // Not counted: yesterday's sends, failed attempts, in-app deliveries.
        var other = await host.Data.JobAsync(user, DeliveryJobStatus.Sent, now.AddDays(-1));
        await host.Data.DeliveryLogAsync(other, DeliveryOutcome.Sent, now.AddDays(-1));
        await host.Data.DeliveryLogAsync(other, DeliveryOutcome.TransientFailure, now.AddHours(-1), attempt: 2);
        await host.Data.DeliveryLogAsync(other, DeliveryOutcome.Sent, now.AddHours(-1), attempt: 3, channel: DeliveryChannel.InApp);

        await host.RunAsync(CronJobCatalog.QuotaReconcile);

        Assert.Equal(5, (long)await host.Redis.StringGetAsync(RedisKeys.EmailQuotaDay(day)));
        var ttl = await host.Redis.KeyTimeToLiveAsync(RedisKeys.EmailQuotaDay(day));
        Assert.InRange(ttl!.Value, TimeSpan.FromHours(6) - TimeSpan.FromSeconds(5), TimeSpan.FromHours(6));
        await using var db = host.Data.Context();
        Assert.Equal(5, (await db.EmailUsageSnapshots.AsNoTracking().SingleAsync(row => row.Day == day, Cancellation)).SentCount);
    }

    [Fact]
    public async Task LostDayCounter_IsRestoredFromTheSnapshot_WhenItCountsMore()
    {
        var now = new DateTimeOffset(2032, 5, 12, 8, 0, 0, TimeSpan.Zero);
        await using var host = await CronJobsHost.StartAsync(servers, now: now);
        var day = DateOnly.FromDateTime(now.UtcDateTime);
        await ForgetCountersAsync(host, day);
        await SnapshotAsync(host, day, 61);
        var user = await host.Data.UserAsync(now);
        var job = await host.Data.JobAsync(user, DeliveryJobStatus.Sent, now.AddHours(-1));
        await host.Data.DeliveryLogAsync(job, DeliveryOutcome.Sent, now.AddHours(-1));

        var counters = await RestoreAsync(host);

        Assert.Equal(61, counters.Day);
        Assert.Equal(61, (long)await host.Redis.StringGetAsync(RedisKeys.EmailQuotaDay(day)));
    }

    [Fact]
    public async Task LostMonthCounter_IsRestoredFromTheMonthsSnapshotsPlusToday_WithATtlToTheEndOfTheMonth()
    {
        var now = new DateTimeOffset(2032, 7, 20, 12, 0, 0, TimeSpan.Zero);
        await using var host = await CronJobsHost.StartAsync(servers, now: now);
        var day = DateOnly.FromDateTime(now.UtcDateTime);
        await ForgetCountersAsync(host, day);
        await host.Redis.StringSetAsync(RedisKeys.EmailQuotaDay(day), 9, TimeSpan.FromHours(1));
        await SnapshotAsync(host, new DateOnly(2032, 7, 1), 100);
        await SnapshotAsync(host, new DateOnly(2032, 7, 19), 80);
        await SnapshotAsync(host, new DateOnly(2032, 6, 30), 99);

        var counters = await RestoreAsync(host);

        Assert.Equal((9, 189), (counters.Day, counters.Month));
        Assert.Equal(189, (long)await host.Redis.StringGetAsync(RedisKeys.EmailQuotaMonth(day)));
        var ttl = await host.Redis.KeyTimeToLiveAsync(RedisKeys.EmailQuotaMonth(day));
        Assert.InRange(ttl!.Value, TimeSpan.FromDays(11.5) - TimeSpan.FromSeconds(5), TimeSpan.FromDays(11.5));
    }

    [Fact]
    public async Task CountersPresent_AreNeverOverwritten()
    {
        var now = new DateTimeOffset(2032, 8, 3, 12, 0, 0, TimeSpan.Zero);
        await using var host = await CronJobsHost.StartAsync(servers, now: now);
        var day = DateOnly.FromDateTime(now.UtcDateTime);
        await host.Redis.StringSetAsync(RedisKeys.EmailQuotaDay(day), 2, TimeSpan.FromHours(1));
        await host.Redis.StringSetAsync(RedisKeys.EmailQuotaMonth(day), 7, TimeSpan.FromHours(1));
        await SnapshotAsync(host, day, 50);

        var counters = await RestoreAsync(host);

        Assert.Equal((2, 7), (counters.Day, counters.Month));
        Assert.Equal(2, (long)await host.Redis.StringGetAsync(RedisKeys.EmailQuotaDay(day)));
    }

    [Fact]
    public async Task NothingSentAndNoSnapshot_NoCounterIsCreated()
    {
        var now = new DateTimeOffset(2032, 9, 9, 12, 0, 0, TimeSpan.Zero);
        await using var host = await CronJobsHost.StartAsync(servers, now: now);
        var day = DateOnly.FromDateTime(now.UtcDateTime);
        await ForgetCountersAsync(host, day);

        await RestoreAsync(host);

        Assert.False(await host.Redis.KeyExistsAsync(RedisKeys.EmailQuotaDay(day)));
        Assert.False(await host.Redis.KeyExistsAsync(RedisKeys.EmailQuotaMonth(day)));
    }

    private static async Task<QuotaCounters> RestoreAsync(CronJobsHost host)
    {
        await using var scope = host.Services.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<QuotaReconcileService>().RestoreLostCountersAsync(host.Time.GetUtcNow(), Cancellation);
    }

    private static async Task ForgetCountersAsync(CronJobsHost host, DateOnly day)
    {
        await host.Redis.KeyDeleteAsync(RedisKeys.EmailQuotaDay(day));
        await host.Redis.KeyDeleteAsync(RedisKeys.EmailQuotaMonth(day));
    }

    private static async Task SnapshotAsync(CronJobsHost host, DateOnly day, int count)
    {
        await using var db = host.Data.Context();
        db.EmailUsageSnapshots.Add(new EmailUsageSnapshot { Day = day, SentCount = count, SnapshotAt = host.Time.GetUtcNow() });
        await db.SaveChangesAsync(Cancellation);
    }
}
