namespace Notifications.Domain.Digests;

/// <summary>Turns a wall-clock time in a zone into an instant, resolving DST gaps and overlaps as <see cref="DigestCalendar"/> documents.</summary>
internal static class ZonedTime
{
    public static DateTimeOffset ToInstant(DateTime localTime, TimeZoneInfo zone)
    {
        var offset = zone.IsInvalidTime(localTime) ? OffsetBeforeGap(localTime, zone)
            : zone.IsAmbiguousTime(localTime) ? zone.GetAmbiguousTimeOffsets(localTime).Max() // larger offset = earlier instant
            : zone.GetUtcOffset(localTime);

        return new DateTimeOffset(localTime - offset, TimeSpan.Zero);
    }

    /// <remarks>
    /// The transition that opened the gap lies within 14 hours (the largest UTC offset) of the wall-clock time read as
    /// UTC, so the instant a day earlier is still before it; zones do not shift twice within a day.
    /// </remarks>
    private static TimeSpan OffsetBeforeGap(DateTime localTime, TimeZoneInfo zone) =>
        zone.GetUtcOffset(new DateTimeOffset(localTime.AddDays(-1), TimeSpan.Zero));
}
