namespace Notifications.Domain.Model;

/// <summary>How urgent a notification is. <see cref="High"/> and <see cref="Critical"/> bypass the email quota.</summary>
public enum NotificationPriority
{
    Low,
    Normal,
    High,
    Critical,
}
