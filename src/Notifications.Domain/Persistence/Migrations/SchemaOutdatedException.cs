namespace Notifications.Domain.Persistence.Migrations;

/// <summary>A service was started against a database that lacks scripts this build needs.</summary>
public sealed class SchemaOutdatedException(SchemaStatus status, string connectionName) : InvalidOperationException(
    $"The database of 'ConnectionStrings:{connectionName}' is at schema version {status.CurrentVersion}" +
    $"{(status.CurrentVersion == 0 ? " (no migrations applied)" : string.Empty)}, but this build needs version " +
    $"{status.Pending[^1].Version}; missing: {string.Join(", ", status.Pending)}. Apply the migrations first: run " +
    $"`dotnet run --project src/Notifications.Migrator` with ConnectionStrings__{connectionName} set to this database, " +
    "or start everything with `dotnet run --project Notifications.AppHost`, which runs the migrator before the services.")
{
    public SchemaStatus Status { get; } = status;
}
