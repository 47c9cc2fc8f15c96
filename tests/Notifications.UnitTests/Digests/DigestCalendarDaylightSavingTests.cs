using Notifications.Domain.Digests;
using Notifications.Domain.Model;
using static Notifications.UnitTests.Digests.DigestCalendarTests;

namespace Notifications.UnitTests.Digests;

/// <summary>
/// 2025 transitions used here — Europe/Berlin: 30 March 02:00 → 03:00, 26 October 03:00 → 02:00.
/// America/New_York: 9 March 02:00 → 03:00, 2 November 02:00 → 01:00. Australia/Sydney: 6 April 03:00 → 02:00,
/// 5 October 02:00 → 03:00. Australia/Lord_Howe: 5 October 02:00 → 02:30.
/// </summary>
public sealed class DigestCalendarDaylightSavingTests
{
    [Fact]
    public void Berlin_daily_keeps_its_wall_clock_time_across_spring_forward()
    {
        var cadence = Cadence(DigestFrequency.Daily, "09:00", null, "Europe/Berlin");

        Assert.Equal(
            [Utc(2025, 3, 30, 7, 0), Utc(2025, 3, 31, 7, 0)],
            Deliveries(cadence, Utc(2025, 3, 29, 8, 0), count: 2));
    }

    [Fact]
    public void Berlin_daily_keeps_its_wall_clock_time_across_fall_back()
    {
        var cadence = Cadence(DigestFrequency.Daily, "09:00", null, "Europe/Berlin");

        Assert.Equal(
            [Utc(2025, 10, 26, 8, 0), Utc(2025, 10, 27, 8, 0)],
            Deliveries(cadence, Utc(2025, 10, 25, 7, 0), count: 2));
    }

    [Fact]
    public void Berlin_time_in_the_spring_gap_moves_forward_by_the_gap_length()
    {
        var cadence = Cadence(DigestFrequency.Daily, "02:30", null, "Europe/Berlin");

        var due = DigestCalendar.NextDue(cadence, Utc(2025, 3, 29, 1, 30));

        Assert.Equal(Utc(2025, 3, 30, 1, 30), due);
        Assert.Equal(new TimeOnly(3, 30), LocalTime(due, cadence));
    }

    [Fact]
    public void Berlin_day_after_the_spring_gap_is_back_at_the_usual_time()
    {
        var cadence = Cadence(DigestFrequency.Daily, "02:30", null, "Europe/Berlin");

        var due = DigestCalendar.NextDue(cadence, Utc(2025, 3, 30, 1, 30));

        Assert.Equal(Utc(2025, 3, 31, 0, 30), due);
        Assert.Equal(new TimeOnly(2, 30), LocalTime(due, cadence));
    }

    [Fact]
    public void Berlin_after_inside_the_shifted_hour_still_gets_that_days_delivery()
    {
        // 01:10Z is 03:10 CEST, before the shifted 03:30 delivery.
        var cadence = Cadence(DigestFrequency.Daily, "02:30", null, "Europe/Berlin");

        Assert.Equal(Utc(2025, 3, 30, 1, 30), DigestCalendar.NextDue(cadence, Utc(2025, 3, 30, 1, 10)));
    }

    [Fact]
    public void Berlin_ambiguous_time_in_the_fall_overlap_is_the_first_occurrence()
    {
        var cadence = Cadence(DigestFrequency.Daily, "02:30", null, "Europe/Berlin");

        var due = DigestCalendar.NextDue(cadence, Utc(2025, 10, 25, 0, 30));

        Assert.Equal(Utc(2025, 10, 26, 0, 30), due);
        Assert.Equal(TimeSpan.FromHours(2), TimeZoneInfo.ConvertTime(due, cadence.TimeZone).Offset);
    }

    [Fact]
    public void Berlin_advancing_from_the_first_occurrence_skips_the_second_one()
    {
        var cadence = Cadence(DigestFrequency.Daily, "02:30", null, "Europe/Berlin");

        // The second 02:30 (CET) is 01:30Z on the 26th; the next delivery is the 27th's.
        Assert.Equal(Utc(2025, 10, 27, 1, 30), DigestCalendar.NextDue(cadence, Utc(2025, 10, 26, 0, 30)));
    }

    [Fact]
    public void Berlin_after_between_the_two_occurrences_does_not_deliver_the_second()
    {
        // 01:00Z on the 26th is 02:00 CET, the second pass through the overlap, before the second 02:30.
        var cadence = Cadence(DigestFrequency.Daily, "02:30", null, "Europe/Berlin");

        Assert.Equal(Utc(2025, 10, 27, 1, 30), DigestCalendar.NextDue(cadence, Utc(2025, 10, 26, 1, 0)));
    }

    [Fact]
    public void Berlin_monthly_delivery_on_the_spring_gap_day_moves_forward_by_the_gap_length()
    {
        var cadence = Cadence(DigestFrequency.Monthly, "02:30", 30, "Europe/Berlin");

        Assert.Equal(Utc(2025, 3, 30, 1, 30), DigestCalendar.NextDue(cadence, Utc(2025, 3, 1, 0, 0)));
    }

    [Fact]
    public void Berlin_monthly_day_31_clamps_at_month_ends_and_keeps_its_wall_clock_time_across_spring_forward()
    {
        // 09:00 CET on 28 February, 09:00 CEST on 31 March, 09:00 CEST on 30 April.
        var cadence = Cadence(DigestFrequency.Monthly, "09:00", 31, "Europe/Berlin");

        Assert.Equal(
            [Utc(2025, 2, 28, 8, 0), Utc(2025, 3, 31, 7, 0), Utc(2025, 4, 30, 7, 0)],
            Deliveries(cadence, Utc(2025, 2, 1, 0, 0), count: 3));
    }

    [Fact]
    public void New_York_monthly_day_31_clamps_at_month_ends_and_keeps_its_wall_clock_time_across_fall_back()
    {
        // 09:00 EDT on 31 October, 09:00 EST on 30 November and 31 December.
        var cadence = Cadence(DigestFrequency.Monthly, "09:00", 31, "America/New_York");

        Assert.Equal(
            [Utc(2025, 10, 31, 13, 0), Utc(2025, 11, 30, 14, 0), Utc(2025, 12, 31, 14, 0)],
            Deliveries(cadence, Utc(2025, 10, 1, 0, 0), count: 3));
    }

    [Fact]
    public void New_York_weekly_keeps_its_wall_clock_time_across_spring_forward()
    {
        // Monday 3 March 09:00 EST → Monday 10 March 09:00 EDT.
        var cadence = Cadence(DigestFrequency.Weekly, "09:00", 1, "America/New_York");

        Assert.Equal(Utc(2025, 3, 10, 13, 0), DigestCalendar.NextDue(cadence, Utc(2025, 3, 3, 14, 0)));
    }

    [Fact]
    public void New_York_time_in_the_spring_gap_moves_forward_by_the_gap_length()
    {
        var cadence = Cadence(DigestFrequency.Daily, "02:30", null, "America/New_York");

        var deliveries = Deliveries(cadence, Utc(2025, 3, 8, 7, 30), count: 2);

        Assert.Equal([Utc(2025, 3, 9, 7, 30), Utc(2025, 3, 10, 6, 30)], deliveries);
        Assert.Equal(new TimeOnly(3, 30), LocalTime(deliveries[0], cadence));
    }

    [Fact]
    public void New_York_ambiguous_time_is_delivered_once_at_the_first_occurrence()
    {
        // 01:30 happens at 05:30Z (EDT) and again at 06:30Z (EST) on 2 November.
        var cadence = Cadence(DigestFrequency.Daily, "01:30", null, "America/New_York");

        Assert.Equal(
            [Utc(2025, 11, 2, 5, 30), Utc(2025, 11, 3, 6, 30)],
            Deliveries(cadence, Utc(2025, 11, 1, 5, 30), count: 2));
    }

    [Fact]
    public void New_York_daily_keeps_its_wall_clock_time_across_fall_back()
    {
        var cadence = Cadence(DigestFrequency.Daily, "09:00", null, "America/New_York");

        Assert.Equal(
            [Utc(2025, 11, 2, 14, 0), Utc(2025, 11, 3, 14, 0)],
            Deliveries(cadence, Utc(2025, 11, 1, 13, 0), count: 2));
    }

    [Fact]
    public void Sydney_ambiguous_time_in_the_april_overlap_is_delivered_once_at_the_first_occurrence()
    {
        // 02:30 on 6 April happens at 15:30Z (AEDT) and again at 16:30Z (AEST) on the 5th.
        var cadence = Cadence(DigestFrequency.Daily, "02:30", null, "Australia/Sydney");

        Assert.Equal(
            [Utc(2025, 4, 5, 15, 30), Utc(2025, 4, 6, 16, 30)],
            Deliveries(cadence, Utc(2025, 4, 4, 15, 30), count: 2));
    }

    [Fact]
    public void Sydney_time_in_the_october_gap_moves_forward_by_the_gap_length()
    {
        var cadence = Cadence(DigestFrequency.Daily, "02:30", null, "Australia/Sydney");

        var deliveries = Deliveries(cadence, Utc(2025, 10, 3, 16, 30), count: 2);

        Assert.Equal([Utc(2025, 10, 4, 16, 30), Utc(2025, 10, 5, 15, 30)], deliveries);
        Assert.Equal(new TimeOnly(3, 30), LocalTime(deliveries[0], cadence));
    }

    [Fact]
    public void Sydney_weekly_sunday_delivery_in_the_gap_moves_forward_by_the_gap_length()
    {
        var cadence = Cadence(DigestFrequency.Weekly, "02:30", 7, "Australia/Sydney");

        Assert.Equal(Utc(2025, 10, 4, 16, 30), DigestCalendar.NextDue(cadence, Utc(2025, 9, 30, 0, 0)));
    }

    [Fact]
    public void Lord_Howe_half_hour_gap_moves_forward_by_half_an_hour()
    {
        var cadence = Cadence(DigestFrequency.Daily, "02:15", null, "Australia/Lord_Howe");

        var due = DigestCalendar.NextDue(cadence, Utc(2025, 10, 4, 0, 0));

        Assert.Equal(Utc(2025, 10, 4, 15, 45), due);
        Assert.Equal(new TimeOnly(2, 45), LocalTime(due, cadence));
    }

    private static TimeOnly LocalTime(DateTimeOffset instant, DigestCadence cadence) =>
        TimeOnly.FromDateTime(TimeZoneInfo.ConvertTime(instant, cadence.TimeZone).DateTime);
}
