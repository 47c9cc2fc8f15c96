namespace Notifications.Migrator;

internal static partial class MigratorLog
{
    [LoggerMessage(EventId = 1201, Level = LogLevel.Information, Message = "Migrations done: applied {AppliedCount} script(s); schema is at version {SchemaVersion}")]
    public static partial void MigrationSucceeded(ILogger logger, int appliedCount, int schemaVersion);

    [LoggerMessage(EventId = 1202, Level = LogLevel.Critical, Message = "Migrations failed; the services must not start against this database")]
    public static partial void MigrationFailed(ILogger logger, Exception exception);
}
