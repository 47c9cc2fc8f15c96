using System.Globalization;
using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Notifications.Api.Apis.Inbox;
using Notifications.Api.Problems;
using Notifications.Api.RateLimiting;
using Notifications.Api.Security;
using Notifications.Domain.Persistence;

namespace Notifications.Api.Apis;

/// <summary>
/// The caller's inbox under <c>/api/notifications</c>: a page of notifications newest first, the unread count, marking
/// read/unread/seen, marking everything read, and archiving. A user sees only their own notifications: anyone else's
/// id answers 404, exactly like an id that does not exist. Archived notifications are not in the inbox. Sending
/// (<c>POST /api/notifications</c>, <c>/batch</c>) is the producers' group on the same prefix.
/// </summary>
public static class InboxApi
{
    public const int DefaultLimit = 20;
    public const int MaximumLimit = 100;
    public const int MaximumCategoryLength = 100;

    public static IEndpointRouteBuilder MapInboxApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/notifications")
            .WithTags("Inbox")
            .RequireAuthorization(Policies.User)
            .RequireUserRateLimit();

        api.MapGet("", ListNotifications).WithName("ListInbox").WithSummary("The caller's notifications, newest first, by cursor");
        api.MapGet("/unread-count", GetUnreadCount).WithName("GetUnreadCount").WithSummary("How many inbox notifications are unread");
        api.MapPost("/mark-all-read", MarkAllRead).WithName("MarkAllRead").WithSummary("Mark every inbox notification read");
        api.MapPatch("/{id:guid}", UpdateNotification).WithName("UpdateNotification").WithSummary("Mark a notification read, unread or seen");
        api.MapDelete("/{id:guid}", ArchiveNotification).WithName("ArchiveNotification").WithSummary("Archive a notification (remove it from the inbox)");
        return app;
    }

    /// <remarks>
    /// Keyset pagination on (created_at, id) through <c>ix_notifications_inbox</c> (or <c>…_by_category</c>): a page
    /// starts strictly after the cursor's row, so notifications arriving between requests never shift or repeat a page.
    /// The query parameters are read as text so that a malformed value is reported against its name like any other.
    /// </remarks>
    internal static async Task<Results<Ok<InboxPage>, ValidationProblem>> ListNotifications(
        ClaimsPrincipal user,
        NotificationsDbContext db,
        CancellationToken cancellationToken,
        string? cursor = null,
        string? limit = null,
        string? unreadOnly = null,
        string? category = null)
    {
        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        InboxPosition? after = null;
        if (cursor is not null && !InboxPosition.TryParseCursor(cursor, out after))
        {
            errors["cursor"] = ["Not a cursor this API issued; pass the nextCursor of a previous page, or omit it for the first page."];
        }
        var pageSize = DefaultLimit;
        if (limit is not null && (!int.TryParse(limit, NumberStyles.None, CultureInfo.InvariantCulture, out pageSize) || pageSize is < 1 or > MaximumLimit))
        {
            errors["limit"] = [$"Must be a whole number between 1 and {MaximumLimit}."];
        }
        var onlyUnread = false;
        if (unreadOnly is not null && !bool.TryParse(unreadOnly, out onlyUnread))
        {
            errors["unreadOnly"] = ["Must be true or false."];
        }
        if (category is not null && (category.Length == 0 || category.Length > MaximumCategoryLength))
        {
            errors["category"] = [$"Must be 1 to {MaximumCategoryLength} characters."];
        }
        if (errors.Count > 0)
        {
            return ProblemDetailsExtensions.ValidationProblem(errors);
        }

        var notifications = db.Notifications.InboxOf(user.GetUserId());
        if (category is not null)
        {
            notifications = notifications.Where(notification => notification.Category == category);
        }
        if (onlyUnread)
        {
            notifications = notifications.Unread();
        }
        if (after is { } position)
        {
            notifications = notifications.Before(position);
        }

        // One row more than the page tells whether another page follows.
        var rows = await notifications.NewestFirst().Take(pageSize + 1).AsNoTracking().ToListAsync(cancellationToken);
        var page = rows.Take(pageSize).ToList();
        var nextCursor = rows.Count > pageSize ? InboxPosition.Of(page[^1]).ToCursor() : null;
        return TypedResults.Ok(new InboxPage([.. page.Select(InboxNotification.From)], nextCursor));
    }

    internal static async Task<Ok<UnreadCount>> GetUnreadCount(ClaimsPrincipal user, NotificationsDbContext db, CancellationToken cancellationToken) =>
        TypedResults.Ok(new UnreadCount(await db.InboxCounters.UnreadCountOfAsync(user.GetUserId(), cancellationToken)));

    internal static async Task<Results<Ok<InboxNotification>, ValidationProblem, ProblemHttpResult>> UpdateNotification(
        Guid id,
        NotificationUpdate update,
        ClaimsPrincipal user,
        NotificationsDbContext db,
        TimeProvider timeProvider,
        CancellationToken cancellationToken)
    {
        if (update.Read is null && update.Seen is null)
        {
            return ProblemDetailsExtensions.ValidationProblem(new Dictionary<string, string[]>
            {
                ["read"] = ["Send read, seen or both."],
                ["seen"] = ["Send read, seen or both."],
            });
        }
        if (update.Seen == false)
        {
            return ProblemDetailsExtensions.ValidationProblem(new Dictionary<string, string[]>
            {
                ["seen"] = ["A notification can be marked seen (true) but not unseen."],
            });
        }

        var notification = await db.Notifications.InboxOf(user.GetUserId()).FirstOrDefaultAsync(found => found.Id == id, cancellationToken);
        if (notification is null)
        {
            return NotificationNotFound(id);
        }

        var now = timeProvider.GetDatabaseNow();
        switch (update.Read)
        {
            case true:
                notification.ReadAt ??= now;
                // Reading something means having seen it.
                notification.SeenAt ??= now;
                break;
            case false:
                notification.ReadAt = null;
                break;
        }
        if (update.Seen == true)
        {
            notification.SeenAt ??= now;
        }
        await db.SaveChangesAsync(cancellationToken);
        return TypedResults.Ok(InboxNotification.From(notification));
    }

    internal static async Task<Ok<MarkAllReadResult>> MarkAllRead(
        ClaimsPrincipal user, NotificationsDbContext db, TimeProvider timeProvider, CancellationToken cancellationToken)
    {
        var now = timeProvider.GetDatabaseNow();
        var updated = await db.Notifications.InboxOf(user.GetUserId()).Unread()
            .ExecuteUpdateAsync(
                setters => setters
                    .SetProperty(notification => notification.ReadAt, now)
                    .SetProperty(notification => notification.SeenAt, notification => notification.SeenAt ?? now),
                cancellationToken);
        return TypedResults.Ok(new MarkAllReadResult(updated));
    }

    /// <summary>Archiving keeps the row (its delivery jobs and logs refer to it); it only leaves the inbox.</summary>
    internal static async Task<Results<NoContent, ProblemHttpResult>> ArchiveNotification(
        Guid id, ClaimsPrincipal user, NotificationsDbContext db, TimeProvider timeProvider, CancellationToken cancellationToken)
    {
        var now = timeProvider.GetDatabaseNow();
        var archived = await db.Notifications.InboxOf(user.GetUserId())
            .Where(notification => notification.Id == id)
            .ExecuteUpdateAsync(setters => setters.SetProperty(notification => notification.ArchivedAt, now), cancellationToken);
        return archived == 0 ? NotificationNotFound(id) : TypedResults.NoContent();
    }

    private static ProblemHttpResult NotificationNotFound(Guid id) =>
        TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "Notification not found.", detail: $"There is no notification {id} in your inbox.");
}
