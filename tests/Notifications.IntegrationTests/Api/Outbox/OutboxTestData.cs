using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Notifications.Domain.Messaging;
using Notifications.Domain.Model;
using Notifications.Domain.Persistence;
using StackExchange.Redis;

namespace Notifications.IntegrationTests.Api.Outbox;

/// <summary>Seeds jobs with their outbox rows, and reads what the relay did in Postgres and Redis.</summary>
internal static class OutboxTestData
{
    private static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    public static string TraceParentFor(int index) => $"00-{index + 1:x32}-{index + 1:x16}-01";

    /// <summary>
    /// Inserts a user and <paramref name="count"/> notification jobs (alternately in-app and email) with their outbox
    /// rows, in one transaction; returns the messages the relay should append.
    /// </summary>
    public static async Task<List<DeliveryMessage>> InsertJobsAsync(
        string connectionString, int count, DeliveryChannel? onlyChannel = null, DateTimeOffset? availableAt = null)
    {
        var now = DateTimeOffset.UtcNow;
        await using var db = TestDatabase.CreateContext(connectionString);
        var user = new User { Id = $"user-{Guid.NewGuid():N}", CreatedAt = now, UpdatedAt = now };
        db.Users.Add(user);
        var expected = new List<DeliveryMessage>(count);
        for (var index = 0; index < count; index++)
        {
            var notification = new Notification
            {
                UserId = user.Id,
                Type = "comment",
                Category = "social",
                Priority = NotificationPriority.High,
                Title = "Title",
                Body = "Body",
                Data = JsonDocument.Parse("{}"),
                CreatedAt = now,
            };
            var job = new DeliveryJob
            {
                NotificationId = notification.Id,
                UserId = user.Id,
                Channel = onlyChannel ?? (index % 2 == 0 ? DeliveryChannel.InApp : DeliveryChannel.Email),
                Status = DeliveryJobStatus.Queued,
                Priority = NotificationPriority.High,
                ScheduledFor = now,
                CreatedAt = now,
                UpdatedAt = now,
            };
            var traceParent = TraceParentFor(index);
            db.Notifications.Add(notification);
            db.DeliveryJobs.Add(job);
            db.OutboxMessages.Add(OutboxMessage.For(job, traceParent, "vendor=test", now, availableAt));
            expected.Add(DeliveryMessage.ForJob(job, traceParent, "vendor=test"));
        }
        await db.SaveChangesAsync(Cancellation);
        return expected;
    }

    /// <summary>Inserts a digest job (no notification, email only) with its outbox row and no trace context.</summary>
    public static async Task<DeliveryMessage> InsertDigestJobAsync(string connectionString)
    {
        var now = DateTimeOffset.UtcNow;
        await using var db = TestDatabase.CreateContext(connectionString);
        var user = new User { Id = $"user-{Guid.NewGuid():N}", CreatedAt = now, UpdatedAt = now };
        var job = new DeliveryJob
        {
            Kind = DeliveryJobKind.Digest,
            DigestMaxItems = 20,
            UserId = user.Id,
            Channel = DeliveryChannel.Email,
            Status = DeliveryJobStatus.Queued,
            DigestPeriodKey = $"daily:{now:yyyy-MM-dd}",
            ScheduledFor = now,
            CreatedAt = now,
            UpdatedAt = now,
        };
        db.Users.Add(user);
        db.DeliveryJobs.Add(job);
        db.OutboxMessages.Add(OutboxMessage.For(job, null, null, now));
        await db.SaveChangesAsync(Cancellation);
        return DeliveryMessage.ForJob(job, null, null);
    }

    public static async Task<List<OutboxMessage>> OutboxRowsAsync(string connectionString)
    {
        await using var db = TestDatabase.CreateContext(connectionString);
        return await db.OutboxMessages.AsNoTracking().OrderBy(message => message.Id).ToListAsync(Cancellation);
    }

    public static async Task<int> UndispatchedCountAsync(string connectionString)
    {
        await using var db = TestDatabase.CreateContext(connectionString);
        return await db.OutboxMessages.CountAsync(message => message.DispatchedAt == null, Cancellation);
    }

    /// <summary>Every entry of a channel's stream, oldest first (other tests' entries included).</summary>
    public static async Task<List<DeliveryMessage>> StreamEntriesAsync(string redisConnectionString, DeliveryChannel channel)
    {
        using var redis = await ConnectionMultiplexer.ConnectAsync(redisConnectionString);
        var entries = (RedisResult[])(await redis.GetDatabase().ExecuteAsync("XRANGE", DeliveryStreams.For(channel), "-", "+"))!;
        return [.. entries.Select(entry => DeliveryMessage.FromStreamFields((RedisValue[])((RedisResult[])entry!)[1]!))];
    }

    /// <summary>Polls until the condition holds; fails after a timeout generous enough for a loaded machine.</summary>
    public static async Task WaitUntilAsync(Func<Task<bool>> condition, string what)
    {
        var deadline = DateTimeOffset.UtcNow.AddSeconds(60);
        while (!await condition())
        {
            if (DateTimeOffset.UtcNow > deadline)
            {
                Assert.Fail($"Timed out waiting until {what}.");
            }
            await Task.Delay(TimeSpan.FromMilliseconds(50), Cancellation);
        }
    }
}
