namespace Notifications.Domain.Model;

/// <summary>
/// A recipient. <see cref="Id"/> is the producer's own user id. The user-wide switches (<see cref="EmailEnabled"/>,
/// <see cref="MutedUntil"/>) live here; per type/category rules live in <see cref="NotificationPreference"/>.
/// </summary>
public sealed class User
{
    public required string Id { get; init; }
    public string? Email { get; set; }
    public string? DisplayName { get; set; }

    /// <summary>IANA time zone, e.g. <c>Europe/Paris</c>.</summary>
    public string TimeZone { get; set; } = "UTC";

    public bool EmailEnabled { get; set; } = true;

    /// <summary>No email until this instant (in-app still arrives).</summary>
    public DateTimeOffset? MutedUntil { get; set; }

    public required DateTimeOffset CreatedAt { get; init; }
    public required DateTimeOffset UpdatedAt { get; set; }
}
