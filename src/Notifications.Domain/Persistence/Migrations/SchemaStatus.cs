namespace Notifications.Domain.Persistence.Migrations;

/// <summary>What a database has applied compared with the scripts a build carries.</summary>
public sealed record SchemaStatus(IReadOnlyList<AppliedMigration> Applied, IReadOnlyList<MigrationScript> Pending)
{
    /// <summary>The highest applied version; 0 when nothing is applied.</summary>
    public int CurrentVersion => Applied.Count == 0 ? 0 : Applied.Max(migration => migration.Version);

    public bool IsCurrent => Pending.Count == 0;
}
