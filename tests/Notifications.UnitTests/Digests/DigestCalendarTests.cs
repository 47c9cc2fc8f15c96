using Notifications.Domain.Digests;
using Notifications.Domain.Model;

namespace Notifications.UnitTests.Digests;

public sealed class DigestCalendarTests
{
    [Fact]
    public void Daily_delivery_later_today_is_next()
    {
        var cadence = Cadence(DigestFrequency.Daily, "09:00", null, "Europe/Berlin");

        Assert.Equal(Utc(2025, 1, 15, 8, 0), DigestCalendar.NextDue(cadence, Utc(2025, 1, 15, 7, 0)));
    }

    [Fact]
    public void Daily_delivery_already_past_today_moves_to_tomorrow()
    {
        var cadence = Cadence(DigestFrequency.Daily, "09:00", null, "Europe/Berlin");

        Assert.Equal(Utc(2025, 1, 16, 8, 0), DigestCalendar.NextDue(cadence, Utc(2025, 1, 15, 8, 30)));
    }

    [Fact]
    public void After_exactly_at_a_daily_due_instant_gives_the_next_day()
    {
        var cadence = Cadence(DigestFrequency.Daily, "09:00", null, "Europe/Berlin");

        Assert.Equal(Utc(2025, 1, 16, 8, 0), DigestCalendar.NextDue(cadence, Utc(2025, 1, 15, 8, 0)));
    }

    [Fact]
    public void Daily_uses_the_local_date_when_it_lags_the_utc_date()
    {
        // 02:00Z on the 16th is still 21:00 on the 15th in New York, so the 15th's 22:00 delivery is ahead.
        var cadence = Cadence(DigestFrequency.Daily, "22:00", null, "America/New_York");

        Assert.Equal(Utc(2025, 1, 16, 3, 0), DigestCalendar.NextDue(cadence, Utc(2025, 1, 16, 2, 0)));
    }

    [Fact]
    public void Daily_uses_the_local_date_when_it_leads_the_utc_date()
    {
        // 19:00Z on the 15th is already 06:00 on the 16th in Sydney (AEDT, +11).
        var cadence = Cadence(DigestFrequency.Daily, "07:00", null, "Australia/Sydney");

        Assert.Equal(Utc(2025, 1, 15, 20, 0), DigestCalendar.NextDue(cadence, Utc(2025, 1, 15, 19, 0)));
    }

    [Fact]
    public void Daily_crosses_the_year_boundary()
    {
        var cadence = Cadence(DigestFrequency.Daily, "23:00", null, "Europe/Berlin");

        Assert.Equal(Utc(2026, 1, 1, 22, 0), DigestCalendar.NextDue(cadence, Utc(2025, 12, 31, 22, 30)));
    }

    [Fact]
    public void Result_is_utc_whatever_the_offset_of_after()
    {
        var cadence = Cadence(DigestFrequency.Daily, "09:00", null, "Europe/Berlin");
        var sameInstantElsewhere = new DateTimeOffset(2025, 1, 15, 12, 0, 0, TimeSpan.FromHours(5));

        var due = DigestCalendar.NextDue(cadence, sameInstantElsewhere);

        Assert.Equal(TimeSpan.Zero, due.Offset);
        Assert.Equal(Utc(2025, 1, 15, 8, 0), due);
    }

    [Fact]
    public void Weekly_day_1_is_monday()
    {
        var cadence = Cadence(DigestFrequency.Weekly, "09:00", 1, "Etc/UTC");

        var due = DigestCalendar.NextDue(cadence, Utc(2025, 1, 15, 10, 0));

        Assert.Equal(Utc(2025, 1, 20, 9, 0), due);
        Assert.Equal(DayOfWeek.Monday, due.DayOfWeek);
    }

    [Fact]
    public void Weekly_day_7_is_sunday()
    {
        var cadence = Cadence(DigestFrequency.Weekly, "09:00", 7, "Etc/UTC");

        var due = DigestCalendar.NextDue(cadence, Utc(2025, 1, 15, 10, 0));

        Assert.Equal(Utc(2025, 1, 19, 9, 0), due);
        Assert.Equal(DayOfWeek.Sunday, due.DayOfWeek);
    }

    [Fact]
    public void Weekly_delivery_later_on_the_same_weekday_is_next()
    {
        var cadence = Cadence(DigestFrequency.Weekly, "09:00", 3, "Etc/UTC");

        Assert.Equal(Utc(2025, 1, 15, 9, 0), DigestCalendar.NextDue(cadence, Utc(2025, 1, 15, 8, 0)));
    }

    [Fact]
    public void After_exactly_at_a_weekly_due_instant_gives_the_next_week()
    {
        var cadence = Cadence(DigestFrequency.Weekly, "09:00", 3, "Etc/UTC");

        Assert.Equal(Utc(2025, 1, 22, 9, 0), DigestCalendar.NextDue(cadence, Utc(2025, 1, 15, 9, 0)));
    }

    [Fact]
    public void Weekly_crosses_the_year_boundary()
    {
        // Wednesday 31 December 2025 → Thursday 1 January 2026.
        var cadence = Cadence(DigestFrequency.Weekly, "09:00", 4, "Etc/UTC");

        Assert.Equal(Utc(2026, 1, 1, 9, 0), DigestCalendar.NextDue(cadence, Utc(2025, 12, 31, 12, 0)));
    }

    [Fact]
    public void Monthly_delivery_later_this_month_is_next()
    {
        var cadence = Cadence(DigestFrequency.Monthly, "09:00", 15, "Etc/UTC");

        Assert.Equal(Utc(2025, 1, 15, 9, 0), DigestCalendar.NextDue(cadence, Utc(2025, 1, 10, 0, 0)));
    }

    [Fact]
    public void After_exactly_at_a_monthly_due_instant_gives_the_next_month()
    {
        var cadence = Cadence(DigestFrequency.Monthly, "09:00", 15, "Etc/UTC");

        Assert.Equal(Utc(2025, 2, 15, 9, 0), DigestCalendar.NextDue(cadence, Utc(2025, 1, 15, 9, 0)));
    }

    [Fact]
    public void Monthly_day_31_clamps_to_february_28_then_returns_to_31_in_a_non_leap_year()
    {
        var cadence = Cadence(DigestFrequency.Monthly, "09:00", 31, "Etc/UTC");

        Assert.Equal(
            [Utc(2025, 1, 31, 9, 0), Utc(2025, 2, 28, 9, 0), Utc(2025, 3, 31, 9, 0), Utc(2025, 4, 30, 9, 0), Utc(2025, 5, 31, 9, 0)],
            Deliveries(cadence, Utc(2024, 12, 31, 9, 0), count: 5));
    }

    [Fact]
    public void Monthly_day_31_clamps_to_february_29_in_a_leap_year()
    {
        var cadence = Cadence(DigestFrequency.Monthly, "09:00", 31, "Etc/UTC");

        Assert.Equal(
            [Utc(2024, 2, 29, 9, 0), Utc(2024, 3, 31, 9, 0)],
            Deliveries(cadence, Utc(2024, 1, 31, 9, 0), count: 2));
    }

    [Fact]
    public void Monthly_day_30_clamps_in_february_only()
    {
        var cadence = Cadence(DigestFrequency.Monthly, "09:00", 30, "Etc/UTC");

        Assert.Equal(
            [Utc(2025, 2, 28, 9, 0), Utc(2025, 3, 30, 9, 0), Utc(2025, 4, 30, 9, 0)],
            Deliveries(cadence, Utc(2025, 1, 30, 9, 0), count: 3));
    }

    [Fact]
    public void Monthly_day_31_falls_on_the_30th_of_a_30_day_month()
    {
        var cadence = Cadence(DigestFrequency.Monthly, "09:00", 31, "Etc/UTC");

        Assert.Equal(Utc(2025, 6, 30, 9, 0), DigestCalendar.NextDue(cadence, Utc(2025, 5, 31, 9, 0)));
    }

    [Fact]
    public void Monthly_after_the_clamped_day_has_passed_goes_to_next_month()
    {
        var cadence = Cadence(DigestFrequency.Monthly, "09:00", 31, "Etc/UTC");

        Assert.Equal(Utc(2025, 3, 31, 9, 0), DigestCalendar.NextDue(cadence, Utc(2025, 2, 28, 10, 0)));
    }

    [Fact]
    public void Monthly_crosses_the_year_boundary()
    {
        var cadence = Cadence(DigestFrequency.Monthly, "09:00", 15, "Etc/UTC");

        Assert.Equal(Utc(2026, 1, 15, 9, 0), DigestCalendar.NextDue(cadence, Utc(2025, 12, 20, 0, 0)));
    }

    [Fact]
    public void Monthly_day_31_crosses_the_year_boundary()
    {
        var cadence = Cadence(DigestFrequency.Monthly, "09:00", 31, "Etc/UTC");

        Assert.Equal(Utc(2026, 1, 31, 9, 0), DigestCalendar.NextDue(cadence, Utc(2025, 12, 31, 9, 0)));
    }

    [Fact]
    public void Monthly_uses_the_local_month_not_the_utc_month()
    {
        // 23:30Z on 31 January is already 1 February in Berlin, so January's delivery on the 31st has passed.
        var cadence = Cadence(DigestFrequency.Monthly, "00:15", 1, "Europe/Berlin");

        Assert.Equal(Utc(2025, 2, 28, 23, 15), DigestCalendar.NextDue(cadence, Utc(2025, 1, 31, 23, 30)));
    }

    internal static DigestCadence Cadence(DigestFrequency frequency, string deliveryTime, int? deliveryDay, string timeZoneId) =>
        new(frequency, TimeOnly.Parse(deliveryTime, System.Globalization.CultureInfo.InvariantCulture), deliveryDay, timeZoneId);

    internal static DateTimeOffset Utc(int year, int month, int day, int hour, int minute) =>
        new(year, month, day, hour, minute, 0, TimeSpan.Zero);

    /// <summary>Advances from <paramref name="start"/> the way the scheduler does: each due instant becomes the next <c>after</c>.</summary>
    internal static DateTimeOffset[] Deliveries(DigestCadence cadence, DateTimeOffset start, int count)
    {
        var deliveries = new DateTimeOffset[count];
        var after = start;
        for (var i = 0; i < count; i++)
        {
            after = deliveries[i] = DigestCalendar.NextDue(cadence, after);
        }

        return deliveries;
    }
}
