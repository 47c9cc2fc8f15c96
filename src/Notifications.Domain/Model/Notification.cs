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

    /// <summary>
    /// When it left the inbox, which shows in-app notifications only: set when the user deletes it, and at creation for
    /// a notification not delivered in-app (the user turned the channel off, or the producer named other channels).
    /// The row stays for its jobs, logs and digests.
    /// </summary>
    public DateTimeOffset? ArchivedAt { get; set; }

    public required DateTimeOffset CreatedAt { get; init; }
}
