namespace Notifications.Domain.Model;

/// <summary>
/// How many of a user's inbox notifications are unread. Kept exact by triggers on <c>notifications</c> (migration 0007);
/// code only reads it. A user without one has no unread notification.
/// </summary>
public sealed class InboxCounter
{
    public required string UserId { get; init; }
    public required int Unread { get; init; }
}
