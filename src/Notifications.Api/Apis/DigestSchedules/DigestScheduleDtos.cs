namespace Notifications.Api.Apis.DigestSchedules;

/// <summary>
/// A digest schedule as the API shows it. <c>frequency</c> is snake_case as stored; <c>deliveryTime</c> is <c>HH:mm</c>
/// (<c>HH:mm:ss</c> when it has seconds) in <c>timeZone</c>; <c>nextDueAt</c> is the next delivery as a UTC instant.
/// </summary>
public sealed record DigestScheduleDetails(
    Guid Id,
    string Frequency,
    string DeliveryTime,
    int? DeliveryDay,
    string TimeZone,
    int MaxItems,
    IReadOnlyList<string> IncludedCategories,
    bool Active,
    DateTimeOffset? LastSentAt,
    DateTimeOffset NextDueAt,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt);

/// <summary>
/// Body of <c>POST</c> and <c>PUT /api/digest-schedules</c> (PUT replaces every field). <c>frequency</c> daily, weekly
/// or monthly; <c>deliveryTime</c> <c>HH:mm</c>; <c>deliveryDay</c> null for daily, 1–7 (Monday = 1) for weekly, 1–31 for
/// monthly (clamped to short months); <c>timeZone</c> an IANA id; <c>maxItems</c> 1–100, default 20;
/// <c>includedCategories</c> empty or omitted for all; <c>active</c> default true.
/// </summary>
public sealed record DigestScheduleRequest(
    string? Frequency,
    string? DeliveryTime,
    int? DeliveryDay,
    string? TimeZone,
    int? MaxItems,
    IReadOnlyList<string?>? IncludedCategories,
    bool? Active);
