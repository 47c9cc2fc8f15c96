namespace Notifications.Api.Apis.Users;

/// <summary>
/// <c>PUT /api/users/{id}</c>: the recipient's contact details, owned by the producer. The user's own switches (email
/// on/off, mute, per-type rules) are theirs, set through the preferences API, and left alone here.
/// </summary>
/// <param name="Email">Where email goes; null means the user gets no email.</param>
/// <param name="TimeZone">IANA time zone; default <c>UTC</c>.</param>
public sealed record UpsertUserRequest(string? Email, string? DisplayName, string? TimeZone);

public sealed record UserResponse(
    string Id,
    string? Email,
    string? DisplayName,
    string TimeZone,
    bool EmailEnabled,
    DateTimeOffset? MutedUntil,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt);
