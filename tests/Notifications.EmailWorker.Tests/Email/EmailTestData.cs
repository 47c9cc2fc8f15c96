using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Notifications.Domain.Model;
using Notifications.EmailWorker.Delivery;

namespace Notifications.EmailWorker.Tests.Email;

/// <summary>Users, notifications and claimed email jobs in the collection's database, each test with fresh user ids.</summary>
internal sealed class EmailTestData(TestServers servers, TimeProvider clock)
{
    public async Task<string> UserAsync(
        string? email = "default",
        string? displayName = "Ada Lovelace",
        bool emailEnabled = true,
        DateTimeOffset? mutedUntil = null)
    {
        var id = $"user-{Guid.NewGuid():N}";
        var now = clock.GetUtcNow();
        await using var context = TestDatabase.CreateContext(servers.DatabaseConnectionString);
        context.Users.Add(new User
        {
            Id = id,
            Email = email == "default" ? $"{id}@example.test" : email,
            DisplayName = displayName,
            EmailEnabled = emailEnabled,
            MutedUntil = mutedUntil,
            CreatedAt = now,
            UpdatedAt = now,
        });
        await context.SaveChangesAsync(TestContext.Current.CancellationToken);
        return id;
    }

    /// <summary>A notification and its email job, claimed (processing), as the consumer hands it to the deliverer.</summary>
    public async Task<DeliveryAttempt> EmailAsync(
        string userId,
        string title = "Your weekly report is ready",
        string body = "It covers 12 new testimonials.",
        string type = "report.ready",
        string category = "reports",
        NotificationPriority priority = NotificationPriority.Normal,
        string data = "{}",
        DateTimeOffset? createdAt = null)
    {
        var now = createdAt ?? clock.GetUtcNow();
        var notification = new Notification
        {
            UserId = userId, Type = type, Category = category, Priority = priority, Title = title, Body = body,
            Data = JsonDocument.Parse(data), CreatedAt = now,
        };
        var job = new DeliveryJob
        {
            NotificationId = notification.Id, UserId = userId, Channel = DeliveryChannel.Email, Status = DeliveryJobStatus.Processing,
            Priority = priority, ScheduledFor = now, CreatedAt = now, UpdatedAt = now,
        };
        await using var context = TestDatabase.CreateContext(servers.DatabaseConnectionString);
        context.Notifications.Add(notification);
        context.DeliveryJobs.Add(job);
        await context.SaveChangesAsync(TestContext.Current.CancellationToken);
        return new DeliveryAttempt(job, 1);
    }

    /// <summary><paramref name="count"/> claimed email jobs for one user, written in one transaction.</summary>
    public async Task<List<DeliveryAttempt>> EmailsAsync(string userId, int count, NotificationPriority priority = NotificationPriority.Normal)
    {
        var now = clock.GetUtcNow();
        var attempts = new List<DeliveryAttempt>(count);
        await using var context = TestDatabase.CreateContext(servers.DatabaseConnectionString);
        for (var i = 0; i < count; i++)
        {
            var notification = new Notification
            {
                UserId = userId, Type = "report.ready", Category = "reports", Priority = priority, Title = $"Report {i}", Body = "Ready.",
                Data = JsonDocument.Parse("{}"), CreatedAt = now,
            };
            var job = new DeliveryJob
            {
                NotificationId = notification.Id, UserId = userId, Channel = DeliveryChannel.Email, Status = DeliveryJobStatus.Processing,
                Priority = priority, ScheduledFor = now, CreatedAt = now, UpdatedAt = now,
            };
            context.Notifications.Add(notification);
            context.DeliveryJobs.Add(job);
            attempts.Add(new DeliveryAttempt(job, 1));
        }
        await context.SaveChangesAsync(TestContext.Current.CancellationToken);
        return attempts;
    }

    /// <summary>The attempt as the consumer hands it over: with the notification and the recipient its claim loaded.</summary>
    public async Task<DeliveryAttempt> ClaimedAsync(DeliveryAttempt attempt)
    {
        await using var context = TestDatabase.CreateContext(servers.DatabaseConnectionString);
        return attempt with
        {
            Notification = await context.Notifications.AsNoTracking().SingleAsync(
                notification => notification.Id == attempt.Job.NotificationId, TestContext.Current.CancellationToken),
            Recipient = await context.Users.AsNoTracking().SingleAsync(user => user.Id == attempt.Job.UserId, TestContext.Current.CancellationToken),
        };
    }

    /// <summary>How many of these jobs reached the dev mailbox.</summary>
    public async Task<int> MailboxCountAsync(IEnumerable<DeliveryAttempt> attempts)
    {
        var keys = attempts.Select(attempt => attempt.IdempotencyKey).ToList();
        await using var context = TestDatabase.CreateContext(servers.DatabaseConnectionString);
        return await context.DevMailboxMessages.CountAsync(message => keys.Contains(message.IdempotencyKey), TestContext.Current.CancellationToken);
    }

    /// <summary>A claimed digest job with <paramref name="items"/> folded notifications, created a minute apart (item 1 oldest).</summary>
    public async Task<DeliveryAttempt> DigestAsync(string userId, int items, int maxItems)
    {
        var now = clock.GetUtcNow();
        var digest = new DeliveryJob
        {
            Kind = DeliveryJobKind.Digest, DigestMaxItems = maxItems, DigestPeriodKey = $"default:{Guid.NewGuid():N}", UserId = userId,
            Channel = DeliveryChannel.Email, Status = DeliveryJobStatus.Processing, ScheduledFor = now, CreatedAt = now, UpdatedAt = now,
        };
        await using var context = TestDatabase.CreateContext(servers.DatabaseConnectionString);
        context.DeliveryJobs.Add(digest);
        for (var i = 1; i <= items; i++)
        {
            var createdAt = now.AddMinutes(i - items - 1);
            var notification = new Notification
            {
                UserId = userId, Type = "comment.created", Category = i % 2 == 0 ? "comments" : "mentions", Title = $"Item {i}",
                Body = $"Body of item {i}", Data = JsonDocument.Parse("{}"), CreatedAt = createdAt,
            };
            context.Notifications.Add(notification);
            context.DeliveryJobs.Add(new DeliveryJob
            {
                NotificationId = notification.Id, UserId = userId, Channel = DeliveryChannel.Email, Status = DeliveryJobStatus.Digested,
                DigestJobId = digest.Id, ScheduledFor = createdAt, CreatedAt = createdAt, UpdatedAt = now,
            });
        }
        await context.SaveChangesAsync(TestContext.Current.CancellationToken);
        return new DeliveryAttempt(digest, 1);
    }

    public async Task DisableEmailForCategoryAsync(string userId, string category)
    {
        await using var context = TestDatabase.CreateContext(servers.DatabaseConnectionString);
        context.NotificationPreferences.Add(new NotificationPreference
        {
            UserId = userId, Scope = PreferenceScope.Category, ScopeKey = category, Channel = DeliveryChannel.Email, Enabled = false,
            UpdatedAt = clock.GetUtcNow(),
        });
        await context.SaveChangesAsync(TestContext.Current.CancellationToken);
    }

    /// <summary>The dev mailbox's messages for one job (by its idempotency key).</summary>
    public async Task<List<DevMailboxMessage>> MailboxAsync(DeliveryAttempt attempt)
    {
        await using var context = TestDatabase.CreateContext(servers.DatabaseConnectionString);
        return await context.DevMailboxMessages.AsNoTracking()
            .Where(message => message.IdempotencyKey == attempt.IdempotencyKey)
            .ToListAsync(TestContext.Current.CancellationToken);
    }

    public static string Header(DevMailboxMessage message, string name) => message.Headers.RootElement.GetProperty(name).GetString()!;
}
