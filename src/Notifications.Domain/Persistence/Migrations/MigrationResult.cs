namespace Notifications.Domain.Persistence.Migrations;

/// <param name="AppliedScripts">The scripts this run applied; empty when the database was already current.</param>
/// <param name="SchemaVersion">The database's version after the run.</param>
public sealed record MigrationResult(IReadOnlyList<MigrationScript> AppliedScripts, int SchemaVersion);
