using System.Text.Json;

namespace Notifications.Domain.Model;

/// <summary>One event for one user: the inbox entry, and the source of its delivery jobs.</summary>
public sealed class Notification
{
    public Guid Id { get; init; } = Guid.CreateVersion7();
    public required string UserId { get; init; }
    public required string Type { get; init; }
    public required string Category { get; init; }
    public NotificationPriority Priority { get; init; } = NotificationPriority.Normal;
    public required string Title { get; init; }
    public required string Body { get; init; }

    /// <summary>The producer's JSON object, stored as <c>jsonb</c>.</summary>
    public required JsonDocument Data { get; init; }

    public DateTimeOffset? ReadAt { get; set; }
    public DateTimeOffset? SeenAt { get; set; }

    /// <summary>Set when the user deletes it from the inbox; the row stays for its jobs and logs.</summary>
    public DateTimeOffset? ArchivedAt { get; set; }

    public required DateTimeOffset CreatedAt { get; init; }
}
