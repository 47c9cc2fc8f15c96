namespace Notifications.Domain.Model;

/// <summary>
/// Delivery of a notification over one channel (<see cref="DeliveryJobKind.Notification"/>), or one digest email
/// (<see cref="DeliveryJobKind.Digest"/>, no notification) that delivers the jobs folded into it: those have status
/// <see cref="DeliveryJobStatus.Digested"/> and <see cref="DigestJobId"/> = the digest job's id.
/// </summary>
public sealed class DeliveryJob
{
    public Guid Id { get; init; } = Guid.CreateVersion7();
    public DeliveryJobKind Kind { get; init; } = DeliveryJobKind.Notification;

    /// <summary>Null exactly for digest jobs.</summary>
    public Guid? NotificationId { get; init; }

    public required string UserId { get; init; }
    public required DeliveryChannel Channel { get; init; }
    public required DeliveryJobStatus Status { get; set; }
    public NotificationPriority Priority { get; init; } = NotificationPriority.Normal;

    /// <summary>Provider attempts made so far.</summary>
    public int Attempts { get; set; }

    /// <summary>How many times stuck-job recovery has re-enqueued it (capped before dead-lettering).</summary>
    public int RecoveryCount { get; set; }

    /// <summary>Not to be delivered before this instant (creation time, or the end of a deferral/back-off).</summary>
    public required DateTimeOffset ScheduledFor { get; set; }

    public DateTimeOffset? ProcessedAt { get; set; }
    public string? ProviderMessageId { get; set; }
    public string? LastError { get; set; }

    /// <summary>For a digested job: the digest job that delivers it.</summary>
    public Guid? DigestJobId { get; set; }

    /// <summary>
    /// For a digest job: names the user's digest period (e.g. schedule id and due instant). Unique per user, so a
    /// retried or concurrent digest run cannot create a second digest for the same period.
    /// </summary>
    public string? DigestPeriodKey { get; init; }

    /// <summary>
    /// For a digest job: how many of its folded notifications the email lists (newest first) before "and N more".
    /// </summary>
    public int? DigestMaxItems { get; init; }

    public required DateTimeOffset CreatedAt { get; init; }
    public required DateTimeOffset UpdatedAt { get; set; }
}
