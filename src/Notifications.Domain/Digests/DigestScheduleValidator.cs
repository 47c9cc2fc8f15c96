using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using Notifications.Domain.Model;

namespace Notifications.Domain.Digests;

/// <summary>Checks a digest schedule's timing fields and reports each problem against the field that caused it.</summary>
public static class DigestScheduleValidator
{
    /// <summary>Enough to skim in one email; the rest is summarised as "and N more".</summary>
    public const int DefaultMaxItems = 20;

    /// <summary>Caps the size of one digest email and of the query that gathers it.</summary>
    public const int MaxItemsLimit = 100;

    private static readonly string[] DeliveryTimeFormats = ["H:mm", "H:mm:ss"];

    public static DigestScheduleValidationResult Validate(DigestScheduleInput input)
    {
        ArgumentNullException.ThrowIfNull(input);
        var errors = new List<DigestFieldError>();

        var frequencyIsValid = TryParseFrequency(input.Frequency, out var frequency);
        if (!frequencyIsValid)
        {
            errors.Add(new(DigestScheduleFields.Frequency, string.IsNullOrWhiteSpace(input.Frequency)
                ? "Frequency is required: daily, weekly or monthly."
                : $"Unknown frequency '{input.Frequency}'; expected daily, weekly or monthly."));
        }

        if (!TryParseDeliveryTime(input.DeliveryTime, out var deliveryTime))
        {
            errors.Add(new(DigestScheduleFields.DeliveryTime, string.IsNullOrWhiteSpace(input.DeliveryTime)
                ? "Delivery time is required, as HH:mm or HH:mm:ss."
                : $"Delivery time '{input.DeliveryTime}' is not a time of day; expected HH:mm or HH:mm:ss between 00:00 and 23:59:59."));
        }

        // Which days are allowed depends on the frequency, so there is nothing to check the day against without one.
        if (frequencyIsValid && DescribeDeliveryDayProblem(frequency, input.DeliveryDay) is { } dayProblem)
        {
            errors.Add(new(DigestScheduleFields.DeliveryDay, dayProblem));
        }

        if (!TryFindTimeZone(input.TimeZone, out var timeZone))
        {
            errors.Add(new(DigestScheduleFields.TimeZone, DescribeTimeZoneProblem(input.TimeZone)));
        }

        var maxItems = input.MaxItems ?? DefaultMaxItems;
        if (maxItems is < 1 or > MaxItemsLimit)
        {
            errors.Add(new(DigestScheduleFields.MaxItems, $"Max items must be between 1 and {MaxItemsLimit}; got {maxItems}."));
        }

        return errors.Count > 0
            ? DigestScheduleValidationResult.Invalid(errors)
            : DigestScheduleValidationResult.Valid(new DigestCadence(frequency, deliveryTime, input.DeliveryDay, timeZone!.Id), maxItems);
    }

    /// <summary>Accepts <c>daily</c>, <c>weekly</c> and <c>monthly</c> in any case; not numbers.</summary>
    public static bool TryParseFrequency(string? value, out DigestFrequency frequency)
    {
        DigestFrequency? parsed = value?.ToLowerInvariant() switch
        {
            "daily" => DigestFrequency.Daily,
            "weekly" => DigestFrequency.Weekly,
            "monthly" => DigestFrequency.Monthly,
            _ => null,
        };
        frequency = parsed.GetValueOrDefault();
        return parsed.HasValue;
    }

    /// <summary>Accepts 24-hour <c>HH:mm</c> or <c>HH:mm:ss</c>; a single-digit hour is fine.</summary>
    public static bool TryParseDeliveryTime(string? value, out TimeOnly deliveryTime) =>
        TimeOnly.TryParseExact(value, DeliveryTimeFormats, CultureInfo.InvariantCulture, DateTimeStyles.None, out deliveryTime);

    /// <summary>
    /// Finds an IANA zone on this machine. Windows ids (<c>Eastern Standard Time</c>) are rejected although .NET
    /// would translate them: stored ids must mean the same thing to Postgres and every client.
    /// </summary>
    public static bool TryFindTimeZone(string? timeZoneId, [NotNullWhen(true)] out TimeZoneInfo? timeZone)
    {
        if (!string.IsNullOrWhiteSpace(timeZoneId)
            && TimeZoneInfo.TryFindSystemTimeZoneById(timeZoneId, out var found)
            && found.HasIanaId)
        {
            timeZone = found;
            return true;
        }

        timeZone = null;
        return false;
    }

    internal static string? DescribeDeliveryDayProblem(DigestFrequency frequency, int? deliveryDay) => frequency switch
    {
        DigestFrequency.Daily when deliveryDay is not null =>
            $"Daily digests take no delivery day; got {deliveryDay}.",
        DigestFrequency.Weekly when deliveryDay is not (>= 1 and <= 7) =>
            $"Weekly digests need a delivery day from 1 (Monday) to 7 (Sunday); got {DescribeDay(deliveryDay)}.",
        DigestFrequency.Monthly when deliveryDay is not (>= 1 and <= 31) =>
            $"Monthly digests need a delivery day from 1 to 31 (clamped to the month's last day); got {DescribeDay(deliveryDay)}.",
        _ => null,
    };

    public static string DescribeTimeZoneProblem(string? timeZoneId)
    {
        if (string.IsNullOrWhiteSpace(timeZoneId))
        {
            return "Time zone is required, as an IANA id such as 'Europe/Berlin'.";
        }

        return TimeZoneInfo.TryConvertWindowsIdToIanaId(timeZoneId, out var ianaId)
            ? $"'{timeZoneId}' is a Windows time zone id; use the IANA id, such as '{ianaId}'."
            : $"Unknown time zone '{timeZoneId}'; expected an IANA id such as 'Europe/Berlin'.";
    }

    private static string DescribeDay(int? deliveryDay) => deliveryDay?.ToString(CultureInfo.InvariantCulture) ?? "none";
}
