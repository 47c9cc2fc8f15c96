using System.Globalization;

namespace Notifications.Domain.Quota;

/// <summary>The two windows the email quota is counted in. Both are UTC calendar windows.</summary>
public enum EmailQuotaWindow
{
    /// <summary>A UTC day; resets at the next UTC midnight.</summary>
    Day,

    /// <summary>A UTC month; resets at 00:00 UTC on the first of the next month.</summary>
    Month,
}

/// <summary>Where the quota windows start and end, and the ISO 8601 form instants take in the quota's Redis keys.</summary>
public static class EmailQuotaCalendar
{
    /// <summary>How long a window's counter (and its alert markers) outlive the window, so a snapshot or the admin
    /// metrics shortly after the reset can still read the finished window.</summary>
    public static readonly TimeSpan CounterGrace = TimeSpan.FromDays(1);

    private const string InstantFormat = "yyyy-MM-dd'T'HH:mm:ss.fff'Z'";

    public static DateOnly UtcDay(DateTimeOffset instant) => DateOnly.FromDateTime(instant.UtcDateTime);

    /// <summary>The next UTC midnight after <paramref name="instant"/>.</summary>
    public static DateTimeOffset NextDay(DateTimeOffset instant) => Start(UtcDay(instant).AddDays(1));

    /// <summary>00:00 UTC on the first of the month after <paramref name="instant"/>'s UTC month.</summary>
    public static DateTimeOffset NextMonth(DateTimeOffset instant)
    {
        var day = UtcDay(instant);
        return Start(new DateOnly(day.Year, day.Month, 1).AddMonths(1));
    }

    /// <summary>When the window that contains <paramref name="instant"/> resets.</summary>
    public static DateTimeOffset Reset(EmailQuotaWindow window, DateTimeOffset instant) =>
        window == EmailQuotaWindow.Day ? NextDay(instant) : NextMonth(instant);

    /// <summary>
    /// Instants as the quota lock stores them: fixed-width UTC, so that comparing two of them as strings (as the Lua
    /// script does) compares them in time.
    /// </summary>
    public static string Format(DateTimeOffset instant) => instant.UtcDateTime.ToString(InstantFormat, CultureInfo.InvariantCulture);

    public static DateTimeOffset Parse(string value) =>
        DateTimeOffset.Parse(value, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal);

    private static DateTimeOffset Start(DateOnly day) => new(day.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero);
}
