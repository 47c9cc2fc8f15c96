using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Notifications.Domain.Model;
using Notifications.Domain.Persistence;

namespace Notifications.Scheduler.Tests;

/// <summary>Rows the way the API and the worker write them, seeded straight into a test's database; fresh ids every time.</summary>
internal sealed class SchedulerTestData(string connectionString)
{
    private static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    public NotificationsDbContext Context() => TestDatabase.CreateContext(connectionString);

    public async Task<string> UserAsync(DateTimeOffset now, bool emailEnabled = true, DateTimeOffset? mutedUntil = null, string? id = null)
    {
        var user = new User
        {
            Id = id ?? $"user-{Guid.NewGuid():N}",
            Email = "someone@example.com",
            EmailEnabled = emailEnabled,
            MutedUntil = mutedUntil,
            CreatedAt = now,
            UpdatedAt = now,
        };
        await using var db = Context();
        db.Users.Add(user);
        await db.SaveChangesAsync(Cancellation);
        return user.Id;
    }

    /// <summary>A notification and its email job waiting for a digest (what the API's routing writes), created at <paramref name="createdAt"/>.</summary>
    public async Task<List<Guid>> PendingDigestJobsAsync(string userId, DateTimeOffset createdAt, int count = 1, string category = "comments")
    {
        await using var db = Context();
        var ids = new List<Guid>();
        for (var i = 0; i < count; i++)
        {
            var notification = Notification(userId, category, createdAt);
            var job = Job(notification, DeliveryChannel.Email, DeliveryJobStatus.DigestPending, NotificationPriority.Normal, createdAt);
            db.Notifications.Add(notification);
            db.DeliveryJobs.Add(job);
            ids.Add(job.Id);
        }
        await db.SaveChangesAsync(Cancellation);
        return ids;
    }

    public async Task<DigestSchedule> ScheduleAsync(
        string userId,
        DateTimeOffset nextDueAt,
        DigestFrequency frequency = DigestFrequency.Daily,
        TimeOnly? deliveryTime = null,
        short? deliveryDay = null,
        string timeZone = "UTC",
        int maxItems = 20,
        List<string>? categories = null,
        bool active = true)
    {
        var schedule = new DigestSchedule
        {
            UserId = userId,
            Frequency = frequency,
            DeliveryTime = deliveryTime ?? new TimeOnly(9, 0),
            DeliveryDay = deliveryDay,
            TimeZone = timeZone,
            MaxItems = maxItems,
            IncludedCategories = categories ?? [],
            Active = active,
            NextDueAt = nextDueAt,
            CreatedAt = nextDueAt.AddDays(-30),
            UpdatedAt = nextDueAt.AddDays(-30),
        };
        await using var db = Context();
        db.DigestSchedules.Add(schedule);
        await db.SaveChangesAsync(Cancellation);
        return schedule;
    }

    /// <summary>A notification job in any state, e.g. deferred until <paramref name="scheduledFor"/> or stuck since <paramref name="updatedAt"/>.</summary>
    public async Task<Guid> JobAsync(
        string userId,
        DeliveryJobStatus status,
        DateTimeOffset createdAt,
        DateTimeOffset? scheduledFor = null,
        DateTimeOffset? updatedAt = null,
        DeliveryChannel channel = DeliveryChannel.Email,
        NotificationPriority priority = NotificationPriority.Normal,
        int recoveryCount = 0)
    {
        var notification = Notification(userId, "comments", createdAt, priority);
        var job = Job(notification, channel, status, priority, createdAt);
        job.ScheduledFor = scheduledFor ?? createdAt;
        job.UpdatedAt = updatedAt ?? createdAt;
        job.RecoveryCount = recoveryCount;
        await using var db = Context();
        db.Notifications.Add(notification);
        db.DeliveryJobs.Add(job);
        await db.SaveChangesAsync(Cancellation);
        return job.Id;
    }

    /// <summary>An outbox row for a job, handed to the stream at <paramref name="dispatchedAt"/> (null: not yet).</summary>
    public async Task OutboxAsync(Guid jobId, DateTimeOffset createdAt, DateTimeOffset? dispatchedAt, DateTimeOffset? availableAt = null)
    {
        await using var db = Context();
        var job = await db.DeliveryJobs.AsNoTracking().SingleAsync(row => row.Id == jobId, Cancellation);
        var message = OutboxMessage.For(job, null, null, createdAt, availableAt);
        message.DispatchedAt = dispatchedAt;
        db.OutboxMessages.Add(message);
        await db.SaveChangesAsync(Cancellation);
    }

    public async Task DeliveryLogAsync(Guid jobId, DeliveryOutcome outcome, DateTimeOffset createdAt, int attempt = 1, DeliveryChannel channel = DeliveryChannel.Email)
    {
        await using var db = Context();
        db.DeliveryLogs.Add(new DeliveryLog
        {
            JobId = jobId, Attempt = attempt, Channel = channel, Provider = "resend", Outcome = outcome, DurationMs = 40,
            HttpStatusCode = outcome == DeliveryOutcome.Sent ? 200 : 503, Error = outcome == DeliveryOutcome.Sent ? null : "unavailable",
            CreatedAt = createdAt,
        });
        await db.SaveChangesAsync(Cancellation);
    }

    public async Task<List<DeliveryJob>> DigestsOfAsync(string userId)
    {
        await using var db = Context();
        return await db.DeliveryJobs.AsNoTracking()
            .Where(job => job.UserId == userId && job.Kind == DeliveryJobKind.Digest)
            .ToListAsync(Cancellation);
    }

    public async Task<DeliveryJob> GetJobAsync(Guid id)
    {
        await using var db = Context();
        return await db.DeliveryJobs.AsNoTracking().SingleAsync(job => job.Id == id, Cancellation);
    }

    public async Task<List<DeliveryJob>> GetJobsAsync(IEnumerable<Guid> ids)
    {
        var wanted = ids.ToList();
        await using var db = Context();
        return await db.DeliveryJobs.AsNoTracking().Where(job => wanted.Contains(job.Id)).ToListAsync(Cancellation);
    }

    public async Task<DigestSchedule> GetScheduleAsync(Guid id)
    {
        await using var db = Context();
        return await db.DigestSchedules.AsNoTracking().SingleAsync(schedule => schedule.Id == id, Cancellation);
    }

    public async Task<List<OutboxMessage>> OutboxOfAsync(Guid jobId)
    {
        await using var db = Context();
        return await db.OutboxMessages.AsNoTracking().Where(message => message.JobId == jobId).OrderBy(message => message.Id).ToListAsync(Cancellation);
    }

    private static Notification Notification(string userId, string category, DateTimeOffset createdAt, NotificationPriority priority = NotificationPriority.Normal) => new()
    {
        UserId = userId,
        Type = $"{category}.created",
        Category = category,
        Priority = priority,
        Title = "Something happened",
        Body = "Details.",
        Data = JsonDocument.Parse("{}"),
        CreatedAt = createdAt,
    };

    private static DeliveryJob Job(Notification notification, DeliveryChannel channel, DeliveryJobStatus status, NotificationPriority priority, DateTimeOffset createdAt) => new()
    {
        NotificationId = notification.Id,
        UserId = notification.UserId,
        Channel = channel,
        Status = status,
        Priority = priority,
        ScheduledFor = createdAt,
        CreatedAt = createdAt,
        UpdatedAt = createdAt,
    };
}
