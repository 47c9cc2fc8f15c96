namespace Notifications.Api.Apis.Preferences;

/// <summary>
/// A user's notification preferences. <see cref="EmailEnabled"/> false stops all email; until <see cref="MutedUntil"/>
/// no email is sent (in-app still arrives). A rule for a type wins over the rule for its category; without either the
/// platform's defaults apply.
/// </summary>
public sealed record NotificationPreferences(bool EmailEnabled, DateTimeOffset? MutedUntil, IReadOnlyList<PreferenceRule> Rules);

/// <param name="Scope"><c>type</c> or <c>category</c>: what <paramref name="Key"/> names.</param>
/// <param name="Key">The notification type or category, e.g. <c>comment.created</c> or <c>social</c>.</param>
/// <param name="Channel"><c>in_app</c> or <c>email</c>.</param>
/// <param name="Enabled">Whether that channel is used.</param>
/// <param name="DeliveryMode"><c>immediate</c>, or <c>digest</c> (email only): batched into the user's digest.</param>
public sealed record PreferenceRule(string Scope, string Key, string Channel, bool Enabled, string DeliveryMode);

/// <summary>
/// <c>PUT /api/notifications/preferences</c>: replaces everything. <c>emailEnabled</c> and <c>rules</c> are required;
/// <c>mutedUntil</c> is an ISO 8601 instant with an offset (<c>2026-01-01T08:00:00Z</c>), or null for no mute.
/// </summary>
public sealed record NotificationPreferencesUpdate(bool? EmailEnabled, string? MutedUntil, IReadOnlyList<PreferenceRuleUpdate?>? Rules);

/// <summary>A rule as sent: <c>enabled</c> defaults to true, <c>deliveryMode</c> to <c>immediate</c>.</summary>
public sealed record PreferenceRuleUpdate(string? Scope, string? Key, string? Channel, bool? Enabled, string? DeliveryMode);
