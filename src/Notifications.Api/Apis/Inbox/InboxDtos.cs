using System.Text.Json;
using Notifications.Domain.Messaging;
using Notifications.Domain.Model;
using Notifications.Domain.Persistence;

namespace Notifications.Api.Apis.Inbox;

/// <summary>A notification as the inbox shows it; <c>priority</c> is snake_case as stored. Null times mean not read / not seen.</summary>
public sealed record InboxNotification(
    Guid Id,
    string Type,
    string Category,
    string Priority,
    string Title,
    string Body,
    JsonElement Data,
    DateTimeOffset? ReadAt,
    DateTimeOffset? SeenAt,
    DateTimeOffset CreatedAt)
{
    public static InboxNotification From(Notification notification) => new(
        notification.Id,
        notification.Type,
        notification.Category,
        SnakeCaseEnum<NotificationPriority>.ToName(notification.Priority),
        notification.Title,
        notification.Body,
        notification.Data.RootElement.Clone(),
        notification.ReadAt,
        notification.SeenAt,
        notification.CreatedAt);

    /// <summary>The same notification as its real-time event, as the event stream replays it from the inbox.</summary>
    public InAppMessage ToInAppMessage(int unreadCount) => new(Id, Type, Category, Priority, Title, Body, Data, CreatedAt, unreadCount);
}

/// <summary>One page, newest first. Pass <see cref="NextCursor"/> as <c>?cursor=</c> for the next; null on the last page.</summary>
public sealed record InboxPage(IReadOnlyList<InboxNotification> Items, string? NextCursor);

public sealed record UnreadCount(int Count);

/// <summary>
/// <c>PATCH /api/notifications/{id}</c>: <c>read</c> true marks it read (and seen), false unread; <c>seen</c> true marks
/// it seen. Omitted fields are left as they are; marking something already read or seen keeps the first time.
/// </summary>
public sealed record NotificationUpdate(bool? Read, bool? Seen);

public sealed record MarkAllReadResult(int Updated);
