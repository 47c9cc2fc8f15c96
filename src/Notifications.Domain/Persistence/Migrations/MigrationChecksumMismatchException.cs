namespace Notifications.Domain.Persistence.Migrations;

/// <summary>An applied script was edited afterwards: the database and the code no longer agree on what it did.</summary>
public sealed class MigrationChecksumMismatchException(string scriptName, string appliedChecksum, string embeddedChecksum)
    : InvalidOperationException(
        $"Migration script '{scriptName}' was applied with checksum {appliedChecksum}, but the embedded script now has checksum " +
        $"{embeddedChecksum}. An applied script must never change: restore it and put the change in a new script.")
{
    public string ScriptName { get; } = scriptName;
}
