namespace Notifications.Domain.Model;

/// <summary>
/// A user's rule for one notification type or category on one channel. Resolution: the type rule, else the
/// category rule, else the platform's defaults; the user-wide <see cref="User.EmailEnabled"/> and
/// <see cref="User.MutedUntil"/> apply on top.
/// </summary>
public sealed class NotificationPreference
{
    public required string UserId { get; init; }
    public required PreferenceScope Scope { get; init; }

    /// <summary>The type or category name the rule applies to.</summary>
    public required string ScopeKey { get; init; }

    public required DeliveryChannel Channel { get; init; }
    public bool Enabled { get; set; } = true;

    /// <summary><see cref="Model.DeliveryMode.Digest"/> is only allowed on the email channel.</summary>
    public DeliveryMode DeliveryMode { get; set; } = DeliveryMode.Immediate;

    public required DateTimeOffset UpdatedAt { get; set; }
}
