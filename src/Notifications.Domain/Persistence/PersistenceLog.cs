using Microsoft.Extensions.Logging;

namespace Notifications.Domain.Persistence;

/// <summary>Log messages of the migrator and the schema guard. Event ids are stable: alerts and dashboards key on them.</summary>
internal static partial class PersistenceLog
{
    [LoggerMessage(EventId = 1001, Level = LogLevel.Information, Message = "Waiting for the migration lock (advisory lock {LockKey})")]
    public static partial void WaitingForMigrationLock(ILogger logger, long lockKey);

    [LoggerMessage(EventId = 1002, Level = LogLevel.Information, Message = "Applying migration {ScriptName} (version {Version})")]
    public static partial void ApplyingMigration(ILogger logger, string scriptName, int version);

    [LoggerMessage(EventId = 1003, Level = LogLevel.Information, Message = "Applied migration {ScriptName} (version {Version}) in {ElapsedMs:F0} ms")]
    public static partial void AppliedMigration(ILogger logger, string scriptName, int version, double elapsedMs);

    [LoggerMessage(EventId = 1004, Level = LogLevel.Information, Message = "Database schema is current at version {Version}; nothing to apply")]
    public static partial void SchemaAlreadyCurrent(ILogger logger, int version);

    [LoggerMessage(EventId = 1005, Level = LogLevel.Warning, Message = "The database has migration {ScriptName} (version {Version}) applied, which this build does not know; it was applied by a newer build")]
    public static partial void UnknownAppliedMigration(ILogger logger, string scriptName, int version);

    [LoggerMessage(EventId = 1101, Level = LogLevel.Information, Message = "Database schema is at version {Version}, as this build needs")]
    public static partial void SchemaCurrent(ILogger logger, int version);

    [LoggerMessage(EventId = 1102, Level = LogLevel.Critical, Message = "Refusing to start: the database schema is older than this build needs")]
    public static partial void SchemaOutdated(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 1103, Level = LogLevel.Warning, Message = "Database not ready yet ({Reason}); retrying in {DelayMs:F0} ms")]
    public static partial void DatabaseNotReady(ILogger logger, string reason, double delayMs);
}
