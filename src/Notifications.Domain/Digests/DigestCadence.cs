using Notifications.Domain.Model;

namespace Notifications.Domain.Digests;

/// <summary>
/// When a digest goes out: every day, on one ISO weekday or on one day of the month, at a wall-clock time
/// in an IANA time zone. Always valid: the constructor rejects what <see cref="DigestScheduleValidator"/>
/// reports as errors, so a cadence read back from the database can be trusted by <see cref="DigestCalendar"/>.
/// </summary>
public sealed record DigestCadence
{
    /// <param name="frequency">Daily, weekly or monthly.</param>
    /// <param name="deliveryTime">Wall-clock time of day in <paramref name="timeZoneId"/>.</param>
    /// <param name="deliveryDay">None for daily; 1 (Monday) … 7 (Sunday) for weekly; 1 … 31 for monthly.</param>
    /// <param name="timeZoneId">An IANA time zone id such as <c>Europe/Berlin</c>.</param>
    /// <exception cref="ArgumentException">A value the validator would reject.</exception>
    public DigestCadence(DigestFrequency frequency, TimeOnly deliveryTime, int? deliveryDay, string timeZoneId)
    {
        if (!Enum.IsDefined(frequency))
        {
            throw new ArgumentOutOfRangeException(nameof(frequency), frequency, "Unknown digest frequency.");
        }

        if (DigestScheduleValidator.DescribeDeliveryDayProblem(frequency, deliveryDay) is { } dayProblem)
        {
            throw new ArgumentOutOfRangeException(nameof(deliveryDay), deliveryDay, dayProblem);
        }

        if (!DigestScheduleValidator.TryFindTimeZone(timeZoneId, out var timeZone))
        {
            throw new ArgumentException(DigestScheduleValidator.DescribeTimeZoneProblem(timeZoneId), nameof(timeZoneId));
        }

        Frequency = frequency;
        DeliveryTime = deliveryTime;
        DeliveryDay = deliveryDay;
        TimeZone = timeZone;
    }

    public DigestFrequency Frequency { get; }

    public TimeOnly DeliveryTime { get; }

    /// <summary>Null for daily; the ISO weekday (1 = Monday) for weekly; the day of the month for monthly.</summary>
    public int? DeliveryDay { get; }

    public TimeZoneInfo TimeZone { get; }

    /// <summary>The zone's canonical IANA id (lookups ignore case, so <c>europe/berlin</c> becomes <c>Europe/Berlin</c>).</summary>
    public string TimeZoneId => TimeZone.Id;
}
