using Notifications.Domain.Model;

namespace Notifications.Domain.Digests;

/// <summary>
/// Computes when a digest is next due. Used when a schedule is written (its first <c>next_due_at</c>) and after
/// each run (advance <c>next_due_at</c> from the instant just served).
/// </summary>
/// <remarks>
/// A delivery is the cadence's wall-clock time on a delivery date in the cadence's zone, turned into an instant by
/// these rules:
/// <list type="bullet">
/// <item>A time skipped by a forward shift (02:30 when clocks jump 02:00 → 03:00) is read with the UTC offset in
/// force before the shift, so it moves forward by the length of the gap: 02:30 → 03:30 for a one-hour gap. The
/// digest still goes out that day, as soon after its usual time as the clock allows.</item>
/// <item>A time repeated by a backward shift (02:30 when clocks fall back 03:00 → 02:00) is the first of the two,
/// and only that one: the second 02:30 is never a delivery, so advancing from the first goes to the next date.</item>
/// </list>
/// </remarks>
public static class DigestCalendar
{
    /// <summary>The first delivery strictly after <paramref name="after"/>, in UTC (offset zero).</summary>
    public static DateTimeOffset NextDue(DigestCadence cadence, DateTimeOffset after)
    {
        ArgumentNullException.ThrowIfNull(cadence);

        var localAfter = TimeZoneInfo.ConvertTime(after, cadence.TimeZone);

        // Start a day early: a gap across local midnight can push the previous date's delivery past `after`.
        var date = DateOnly.FromDateTime(localAfter.DateTime).AddDays(-1);
        while (true)
        {
            date = FirstDeliveryDateOnOrAfter(cadence, date);
            var due = ZonedTime.ToInstant(date.ToDateTime(cadence.DeliveryTime), cadence.TimeZone);
            if (due > after)
            {
                return due;
            }

            date = date.AddDays(1);
        }
    }

    private static DateOnly FirstDeliveryDateOnOrAfter(DigestCadence cadence, DateOnly date) => cadence.Frequency switch
    {
        DigestFrequency.Daily => date,
        DigestFrequency.Weekly => date.AddDays((cadence.DeliveryDay!.Value - IsoDayOfWeek(date) + 7) % 7),
        DigestFrequency.Monthly => FirstMonthlyDateOnOrAfter(cadence.DeliveryDay!.Value, date),
        _ => throw new ArgumentOutOfRangeException(nameof(cadence), cadence.Frequency, "Unknown digest frequency."),
    };

    private static DateOnly FirstMonthlyDateOnOrAfter(int deliveryDay, DateOnly date)
    {
        var thisMonth = MonthlyDeliveryDate(date.Year, date.Month, deliveryDay);
        if (thisMonth >= date)
        {
            return thisMonth;
        }

        var nextMonth = new DateOnly(date.Year, date.Month, 1).AddMonths(1);
        return MonthlyDeliveryDate(nextMonth.Year, nextMonth.Month, deliveryDay);
    }

    /// <summary>Day 29–31 falls on the last day of a shorter month; each month is clamped on its own.</summary>
    private static DateOnly MonthlyDeliveryDate(int year, int month, int deliveryDay) =>
        new(year, month, Math.Min(deliveryDay, DateTime.DaysInMonth(year, month)));

    private static int IsoDayOfWeek(DateOnly date) => date.DayOfWeek == DayOfWeek.Sunday ? 7 : (int)date.DayOfWeek;
}
