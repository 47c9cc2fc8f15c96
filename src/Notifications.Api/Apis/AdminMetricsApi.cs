using System.Text.Json;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Notifications.Api.Apis.Admin;
using Notifications.Api.RateLimiting;
using Notifications.Api.Security;
using Notifications.Domain.Messaging;
using Notifications.Domain.Model;
using Notifications.Domain.Persistence;
using Notifications.Domain.Quota;
using Notifications.Domain.Redis;
using Notifications.Domain.Resilience;
using StackExchange.Redis;

namespace Notifications.Api.Apis;

/// <summary><c>GET /api/admin/metrics</c>: queue depths, the outbox backlog, jobs by status, the dead-letter queue and email quota use.</summary>
public static class AdminMetricsApi
{
    /// <summary>How long the Redis part may take before the answer goes out without it.</summary>
    private static readonly TimeSpan RedisTimeout = TimeSpan.FromSeconds(2);

    public static IEndpointRouteBuilder MapAdminMetricsApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/admin/metrics")
            .WithTags("Admin")
            .RequireAuthorization(Policies.Admin)
            .RequireUserRateLimit();

        api.MapGet("", GetMetrics).WithName("GetAdminMetrics").WithSummary("Queue depths, outbox backlog, jobs by status, dead letters and email quota");
        return app;
    }

    internal static async Task<Ok<AdminMetrics>> GetMetrics(
        NotificationsDbContext db,
        IDatabase redis,
        EmailQuota quota,
        TimeProvider timeProvider,
        CancellationToken cancellationToken)
    {
        var now = timeProvider.GetUtcNow();
        var startOfDay = new DateTimeOffset(now.UtcDateTime.Date, TimeSpan.Zero);

        var undispatched = await db.OutboxMessages.CountAsync(message => message.DispatchedAt == null, cancellationToken);
        var oldestDue = await db.OutboxMessages
            .Where(message => message.DispatchedAt == null && message.AvailableAt <= now)
            .OrderBy(message => message.Id)
            .Select(message => (DateTimeOffset?)message.AvailableAt)
            .FirstOrDefaultAsync(cancellationToken);
        var due = oldestDue is null ? 0 : await db.OutboxMessages.CountAsync(message => message.DispatchedAt == null && message.AvailableAt <= now, cancellationToken);

        var statusCounts = await db.DeliveryJobs
            .GroupBy(job => job.Status)
            .Select(group => new { Status = group.Key, Count = group.Count() })
            .ToListAsync(cancellationToken);
        var jobsByStatus = Enum.GetValues<DeliveryJobStatus>().ToDictionary(SnakeCaseEnum<DeliveryJobStatus>.ToName, _ => 0, StringComparer.Ordinal);
        foreach (var count in statusCounts)
        {
            jobsByStatus[SnakeCaseEnum<DeliveryJobStatus>.ToName(count.Status)] = count.Count;
        }

        var deadLetters = new DeadLetterMetrics(
            await db.DeadLetters.CountAsync(letter => letter.RequeuedAt == null, cancellationToken),
            await db.DeadLetters.CountAsync(cancellationToken));

        var emailToday = db.DeliveryLogs.Where(log => log.Channel == DeliveryChannel.Email && log.CreatedAt >= startOfDay);
        var sentToday = await emailToday.CountAsync(log => log.Outcome == DeliveryOutcome.Sent, cancellationToken);
        var deferredToday = await emailToday.CountAsync(log => log.Outcome == DeliveryOutcome.QuotaExceeded, cancellationToken);
        var deferredNow = jobsByStatus[SnakeCaseEnum<DeliveryJobStatus>.ToName(DeliveryJobStatus.Deferred)];

        var (streams, circuits, quotaUsage) = await ReadRedisAsync(redis, quota, cancellationToken);

        return TypedResults.Ok(new AdminMetrics(
            now,
            streams is not null,
            streams,
            circuits,
            new OutboxMetrics(undispatched, due, oldestDue is { } oldest ? Math.Max(0, (now - oldest).TotalSeconds) : null),
            jobsByStatus,
            deadLetters,
            new EmailMetrics(sentToday, deferredToday, deferredNow, quotaUsage)));
    }

    /// <summary>The Redis half, or nulls when Redis does not answer in time: metrics must work when Redis does not.</summary>
    private static async Task<(IReadOnlyList<StreamMetrics>? Streams, IReadOnlyList<ProviderCircuitState>? Circuits, QuotaMetrics? Quota)> ReadRedisAsync(
        IDatabase redis, EmailQuota quota, CancellationToken cancellationToken)
    {
        try
        {
            var streams = new List<StreamMetrics>();
            foreach (var channel in Enum.GetValues<DeliveryChannel>())
            {
                streams.Add(await ReadStreamAsync(redis, channel).WaitAsync(RedisTimeout, cancellationToken));
            }
            var circuits = await ReadCircuitsAsync(redis).WaitAsync(RedisTimeout, cancellationToken);
            var usage = await quota.ReadUsageAsync().WaitAsync(RedisTimeout, cancellationToken);
            return (streams, circuits,
                new QuotaMetrics(usage.Enabled, usage.DayCount, usage.DailyLimit, usage.MonthCount, usage.MonthlyLimit, usage.LockedUntil));
        }
        catch (Exception exception) when (exception is RedisException or TimeoutException)
        {
            return (null, null, null);
        }
    }

    /// <summary>Every provider circuit a worker reported, found with SCAN (a handful of keys), ordered by provider.</summary>
    private static async Task<IReadOnlyList<ProviderCircuitState>> ReadCircuitsAsync(IDatabase redis)
    {
        var keys = new List<RedisKey>();
        var cursor = "0";
        do
        {
            var page = (RedisResult[])(await redis.ExecuteAsync("SCAN", cursor, "MATCH", RedisKeys.ProviderCircuitPattern, "COUNT", "100"))!;
            cursor = (string)page[0]!;
            keys.AddRange(((RedisResult[])page[1]!).Select(key => (RedisKey)(string)key!));
        }
        while (cursor != "0");
        if (keys.Count == 0)
        {
            return [];
        }

        var states = new List<ProviderCircuitState>(keys.Count);
        foreach (var value in await redis.StringGetAsync([.. keys]))
        {
            // A key that expired between SCAN and GET, or a value a newer worker wrote in another shape, is left out.
            if (value.HasValue)
            {
                try
                {
                    states.Add(ProviderCircuitState.FromJson(value!));
                }
                catch (JsonException)
                {
                }
            }
        }
        return [.. states.OrderBy(state => state.Provider, StringComparer.Ordinal)];
    }

    private static async Task<StreamMetrics> ReadStreamAsync(IDatabase redis, DeliveryChannel channel)
    {
        var stream = DeliveryStreams.For(channel);
        var name = SnakeCaseEnum<DeliveryChannel>.ToName(channel);
        var length = (long)await redis.ExecuteAsync("XLEN", stream);
        if (length == 0 && !await redis.KeyExistsAsync(stream))
        {
            return new StreamMetrics(name, stream, 0, null, null, 0);
        }

        // XINFO GROUPS answers a flat field/value list per group.
        foreach (RedisResult group in (RedisResult[])(await redis.ExecuteAsync("XINFO", "GROUPS", stream))!)
        {
            var fields = ToDictionary((RedisResult[])group!);
            if ((string?)fields.GetValueOrDefault("name") != DeliveryStreams.ConsumerGroup)
            {
                continue;
            }
            return new StreamMetrics(
                name,
                stream,
                length,
                AsLong(fields.GetValueOrDefault("pending")),
                AsLong(fields.GetValueOrDefault("lag")),
                (int)(AsLong(fields.GetValueOrDefault("consumers")) ?? 0));
        }
        return new StreamMetrics(name, stream, length, null, null, 0);
    }

    private static Dictionary<string, RedisResult> ToDictionary(RedisResult[] flat)
    {
        var fields = new Dictionary<string, RedisResult>(StringComparer.Ordinal);
        for (var index = 0; index + 1 < flat.Length; index += 2)
        {
            fields[(string)flat[index]!] = flat[index + 1];
        }
        return fields;
    }

    private static long? AsLong(RedisResult? value) => value is null || value.IsNull ? null : (long)value;
}
