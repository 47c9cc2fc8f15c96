namespace Notifications.Api.Apis;

/// <summary>
/// Postgres stores timestamps to the microsecond (Npgsql truncates the rest). Times the API writes are cut to that
/// precision first, so a response shows exactly what a later read returns.
/// </summary>
internal static class DatabaseTime
{
    public static DateTimeOffset GetDatabaseNow(this TimeProvider timeProvider) => ToDatabasePrecision(timeProvider.GetUtcNow());

    public static DateTimeOffset ToDatabasePrecision(DateTimeOffset instant) =>
        instant.AddTicks(-(instant.UtcTicks % TimeSpan.TicksPerMicrosecond));
}
