using Microsoft.EntityFrameworkCore;
using Notifications.Domain.Model;

namespace Notifications.IntegrationTests.Api.Sending;

/// <summary>Seeds recipients and their rules, and reads what a send wrote, on the collection's database.</summary>
internal sealed class SendTestData(string connectionString)
{
    private static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    /// <param name="email">The address; by default one made from the id.</param>
    public async Task<string> SeedUserAsync(bool emailEnabled = true, DateTimeOffset? mutedUntil = null, string? email = "", string? userId = null)
    {
        userId ??= $"send-{Guid.NewGuid():N}";
        var now = DateTimeOffset.UtcNow;
        await using var db = TestDatabase.CreateContext(connectionString);
        db.Users.Add(new User
        {
            Id = userId,
            Email = email == "" ? $"{userId}@example.test" : email,
            EmailEnabled = emailEnabled,
            MutedUntil = mutedUntil,
            CreatedAt = now,
            UpdatedAt = now,
        });
        await db.SaveChangesAsync(Cancellation);
        return userId;
    }

    public async Task SeedRuleAsync(string userId, PreferenceScope scope, string key, DeliveryChannel channel, bool enabled, DeliveryMode mode)
    {
        await using var db = TestDatabase.CreateContext(connectionString);
        db.NotificationPreferences.Add(new NotificationPreference
        {
            UserId = userId,
            Scope = scope,
            ScopeKey = key,
            Channel = channel,
            Enabled = enabled,
            DeliveryMode = mode,
            UpdatedAt = DateTimeOffset.UtcNow,
        });
        await db.SaveChangesAsync(Cancellation);
    }

    public async Task<int> NotificationCountAsync(string userId)
    {
        await using var db = TestDatabase.CreateContext(connectionString);
        return await db.Notifications.CountAsync(notification => notification.UserId == userId, Cancellation);
    }

    public async Task<List<OutboxMessage>> OutboxRowsOfAsync(string userId)
    {
        await using var db = TestDatabase.CreateContext(connectionString);
        return await db.OutboxMessages.AsNoTracking()
            .Where(row => db.DeliveryJobs.Any(job => job.Id == row.JobId && job.UserId == userId))
            .OrderBy(row => row.Id)
            .ToListAsync(Cancellation);
    }
}
