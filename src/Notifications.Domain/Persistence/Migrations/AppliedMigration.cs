namespace Notifications.Domain.Persistence.Migrations;

/// <summary>A row of <c>schema_versions</c>.</summary>
public sealed record AppliedMigration(int Version, string Name, string Checksum, DateTimeOffset AppliedAt);
