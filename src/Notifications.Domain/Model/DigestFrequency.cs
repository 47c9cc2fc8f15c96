namespace Notifications.Domain.Model;

public enum DigestFrequency
{
    Daily,

    /// <summary>On <c>DeliveryDay</c> 1–7, Monday = 1 (ISO 8601).</summary>
    Weekly,

    /// <summary>On <c>DeliveryDay</c> 1–31, clamped to the month's last day.</summary>
    Monthly,
}
