namespace Notifications.Domain.Digests;

/// <summary>The request fields a <see cref="DigestFieldError"/> names, spelled as the API's JSON spells them.</summary>
public static class DigestScheduleFields
{
    public const string Frequency = "frequency";
    public const string DeliveryTime = "deliveryTime";
    public const string DeliveryDay = "deliveryDay";
    public const string TimeZone = "timeZone";
    public const string MaxItems = "maxItems";
}

/// <summary>One problem with one request field, for a 400 problem details response.</summary>
public sealed record DigestFieldError(string Field, string Message);
