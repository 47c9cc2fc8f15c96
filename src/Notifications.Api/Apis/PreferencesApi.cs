using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Notifications.Api.Apis.Preferences;
using Notifications.Api.Problems;
using Notifications.Api.RateLimiting;
using Notifications.Api.Security;
using Notifications.Domain.Model;
using Notifications.Domain.Persistence;

namespace Notifications.Api.Apis;

/// <summary>
/// <c>/api/notifications/preferences</c>: the caller's email switch, mute and per type/category per channel rules. The
/// send path reads them (resolution in <see cref="NotificationPreference"/>); this area only reads and replaces them.
/// </summary>
public static class PreferencesApi
{
    public static IEndpointRouteBuilder MapPreferencesApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/notifications/preferences")
            .WithTags("Preferences")
            .RequireAuthorization(Policies.User)
            .RequireUserRateLimit();

        api.MapGet("", GetPreferences).WithName("GetPreferences").WithSummary("The caller's notification preferences");
        api.MapPut("", ReplacePreferences).WithName("ReplacePreferences").WithSummary("Replace the caller's notification preferences");
        return app;
    }

    internal static async Task<Results<Ok<NotificationPreferences>, ProblemHttpResult>> GetPreferences(
        ClaimsPrincipal user, NotificationsDbContext db, CancellationToken cancellationToken)
    {
        var userId = user.GetUserId();
        var switches = await db.Users.AsNoTracking()
            .Where(found => found.Id == userId)
            .Select(found => new { found.EmailEnabled, found.MutedUntil })
            .FirstOrDefaultAsync(cancellationToken);
        if (switches is null)
        {
            return RegisteredUsers.NotRegistered(userId);
        }
        var rules = await db.NotificationPreferences.AsNoTracking().Where(rule => rule.UserId == userId).ToListAsync(cancellationToken);
        return TypedResults.Ok(ToPreferences(switches.EmailEnabled, switches.MutedUntil, rules));
    }

    /// <summary>
    /// One transaction: the UPDATE of the user row comes first and locks it, so concurrent replacements of one user's
    /// rules run one after the other instead of colliding on the rules' primary key.
    /// </summary>
    internal static async Task<Results<Ok<NotificationPreferences>, ValidationProblem, ProblemHttpResult>> ReplacePreferences(
        NotificationPreferencesUpdate update,
        ClaimsPrincipal user,
        NotificationsDbContext db,
        TimeProvider timeProvider,
        CancellationToken cancellationToken)
    {
        if (!PreferencesValidator.TryValidate(update, out var preferences, out var errors))
        {
            return ProblemDetailsExtensions.ValidationProblem(errors);
        }

        var userId = user.GetUserId();
        var now = timeProvider.GetDatabaseNow();
        var rows = preferences.Rules.Select(rule => new NotificationPreference
        {
            UserId = userId,
            Scope = rule.Scope,
            ScopeKey = rule.Key,
            Channel = rule.Channel,
            Enabled = rule.Enabled,
            DeliveryMode = rule.DeliveryMode,
            UpdatedAt = now,
        }).ToList();

        var strategy = db.Database.CreateExecutionStrategy();
        var registered = await strategy.ExecuteAsync(async () =>
        {
            db.ChangeTracker.Clear();
            await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
            var updated = await db.Users.Where(found => found.Id == userId).ExecuteUpdateAsync(
                setters => setters
                    .SetProperty(found => found.EmailEnabled, preferences.EmailEnabled)
                    .SetProperty(found => found.MutedUntil, preferences.MutedUntil)
                    .SetProperty(found => found.UpdatedAt, now),
                cancellationToken);
            if (updated == 0)
            {
                return false;
            }
            await db.NotificationPreferences.Where(rule => rule.UserId == userId).ExecuteDeleteAsync(cancellationToken);
            db.NotificationPreferences.AddRange(rows);
            await db.SaveChangesAsync(cancellationToken);
            await transaction.CommitAsync(cancellationToken);
            return true;
        });
        if (!registered)
        {
            return RegisteredUsers.NotRegistered(userId);
        }

        return TypedResults.Ok(ToPreferences(preferences.EmailEnabled, preferences.MutedUntil, rows));
    }

    /// <summary>Rules in one stable order (scope, key, channel; ordinal, whatever the database's collation).</summary>
    private static NotificationPreferences ToPreferences(bool emailEnabled, DateTimeOffset? mutedUntil, IEnumerable<NotificationPreference> rules) =>
        new(emailEnabled, mutedUntil, [.. rules
            .Select(rule => new PreferenceRule(
                SnakeCaseEnum<PreferenceScope>.ToName(rule.Scope),
                rule.ScopeKey,
                SnakeCaseEnum<DeliveryChannel>.ToName(rule.Channel),
                rule.Enabled,
                SnakeCaseEnum<DeliveryMode>.ToName(rule.DeliveryMode)))
            .OrderBy(rule => rule.Scope, StringComparer.Ordinal)
            .ThenBy(rule => rule.Key, StringComparer.Ordinal)
            .ThenBy(rule => rule.Channel, StringComparer.Ordinal)]);
}
