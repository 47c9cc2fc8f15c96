namespace Notifications.Domain.Digests;

/// <summary>A digest schedule's timing fields as a client sent them, before validation.</summary>
/// <param name="Frequency"><c>daily</c>, <c>weekly</c> or <c>monthly</c>.</param>
/// <param name="DeliveryTime"><c>HH:mm</c> or <c>HH:mm:ss</c>, 24-hour.</param>
/// <param name="DeliveryDay">None for daily; 1 (Monday) … 7 (Sunday) for weekly; 1 … 31 for monthly.</param>
/// <param name="TimeZone">An IANA time zone id such as <c>Europe/Berlin</c>.</param>
/// <param name="MaxItems">Items listed in one digest; null means <see cref="DigestScheduleValidator.DefaultMaxItems"/>.</param>
public sealed record DigestScheduleInput(
    string? Frequency,
    string? DeliveryTime,
    int? DeliveryDay,
    string? TimeZone,
    int? MaxItems);
