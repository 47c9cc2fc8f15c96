using System.Data;
using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Notifications.Domain.Persistence.Migrations;

/// <summary>
/// Applies the versioned SQL scripts. Concurrent migrators serialize on a Postgres advisory lock; each pending script
/// runs in its own transaction together with its <c>schema_versions</c> row, so a script is applied entirely and
/// exactly once. Running it against a current database changes nothing.
/// </summary>
public sealed class DatabaseMigrator(NpgsqlDataSource dataSource, IReadOnlyList<MigrationScript> scripts, ILogger<DatabaseMigrator> logger)
{
    /// <summary>The session-level advisory lock every migrator takes (arbitrary, fixed: "Notif" in ASCII).</summary>
    public const long AdvisoryLockKey = 0x4E_6F_74_69_66;

    public const string SchemaVersionsTable = "schema_versions";

    public DatabaseMigrator(NpgsqlDataSource dataSource, ILogger<DatabaseMigrator> logger)
        : this(dataSource, EmbeddedMigrations.All, logger)
    {
    }

    public async Task<MigrationResult> MigrateAsync(CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);

        PersistenceLog.WaitingForMigrationLock(logger, AdvisoryLockKey);
        await ExecuteAsync(connection, "SELECT pg_advisory_lock(@key)", cancellationToken, new NpgsqlParameter("key", AdvisoryLockKey));
        try
        {
            await ExecuteAsync(connection, $"""
                CREATE TABLE IF NOT EXISTS {SchemaVersionsTable} (
                    version     integer     PRIMARY KEY,
                    name        text        NOT NULL,
                    checksum    text        NOT NULL,
                    applied_at  timestamptz NOT NULL DEFAULT now()
                )
                """, cancellationToken);

            var status = Compare(await ReadAppliedAsync(connection, cancellationToken), scripts);
            foreach (var applied in status.Applied.Where(applied => scripts.All(script => script.Version != applied.Version)))
            {
                PersistenceLog.UnknownAppliedMigration(logger, applied.Name, applied.Version);
            }

            foreach (var script in status.Pending)
            {
                await ApplyAsync(connection, script, cancellationToken);
            }

            var version = Math.Max(status.CurrentVersion, status.Pending.Count == 0 ? 0 : status.Pending[^1].Version);
            if (status.Pending.Count == 0)
            {
                PersistenceLog.SchemaAlreadyCurrent(logger, version);
            }

            return new MigrationResult(status.Pending, version);
        }
        finally
        {
            // The lock belongs to the session and pooled connections outlive this call, so release it explicitly;
            // when the session itself broke, Postgres has already released it.
            if (connection.FullState == ConnectionState.Open)
            {
                await ExecuteAsync(connection, "SELECT pg_advisory_unlock(@key)", CancellationToken.None, new NpgsqlParameter("key", AdvisoryLockKey));
            }
        }
    }

    /// <summary>Reads what the database has applied, without taking the lock or changing anything.</summary>
    public async Task<SchemaStatus> ReadStatusAsync(CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var exists = new NpgsqlCommand($"SELECT to_regclass('{SchemaVersionsTable}') IS NOT NULL", connection);
        var tableExists = (bool)(await exists.ExecuteScalarAsync(cancellationToken))!;
        var applied = tableExists ? await ReadAppliedAsync(connection, cancellationToken) : [];
        return Compare(applied, scripts);
    }

    private async Task ApplyAsync(NpgsqlConnection connection, MigrationScript script, CancellationToken cancellationToken)
    {
        PersistenceLog.ApplyingMigration(logger, script.Name, script.Version);
        var started = Stopwatch.GetTimestamp();
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await using (var command = new NpgsqlCommand(script.Sql, connection, transaction))
        {
            await command.ExecuteNonQueryAsync(cancellationToken);
        }

        await using (var record = new NpgsqlCommand(
            $"INSERT INTO {SchemaVersionsTable} (version, name, checksum) VALUES (@version, @name, @checksum)", connection, transaction))
        {
            record.Parameters.AddWithValue("version", script.Version);
            record.Parameters.AddWithValue("name", script.Name);
            record.Parameters.AddWithValue("checksum", script.Checksum);
            await record.ExecuteNonQueryAsync(cancellationToken);
        }

        await transaction.CommitAsync(cancellationToken);
        PersistenceLog.AppliedMigration(logger, script.Name, script.Version, Stopwatch.GetElapsedTime(started).TotalMilliseconds);
    }

    private static SchemaStatus Compare(IReadOnlyList<AppliedMigration> applied, IReadOnlyList<MigrationScript> scripts)
    {
        var appliedByVersion = applied.ToDictionary(migration => migration.Version);
        var pending = new List<MigrationScript>();
        foreach (var script in scripts.OrderBy(script => script.Version))
        {
            if (!appliedByVersion.TryGetValue(script.Version, out var migration))
            {
                pending.Add(script);
            }
            else if (!string.Equals(migration.Checksum, script.Checksum, StringComparison.Ordinal))
            {
                throw new MigrationChecksumMismatchException(script.Name, migration.Checksum, script.Checksum);
            }
        }

        return new SchemaStatus(applied, pending);
    }

    private static async Task<IReadOnlyList<AppliedMigration>> ReadAppliedAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(
            $"SELECT version, name, checksum, applied_at FROM {SchemaVersionsTable} ORDER BY version", connection);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var applied = new List<AppliedMigration>();
        while (await reader.ReadAsync(cancellationToken))
        {
            applied.Add(new AppliedMigration(
                reader.GetInt32(0), reader.GetString(1), reader.GetString(2), reader.GetFieldValue<DateTimeOffset>(3)));
        }

        return applied;
    }

    private static async Task ExecuteAsync(
        NpgsqlConnection connection, string sql, CancellationToken cancellationToken, params NpgsqlParameter[] parameters)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        command.Parameters.AddRange(parameters);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }
}
