using Notifications.Domain.Persistence.Migrations;
using Npgsql;
using static Notifications.Testing.TestDatabase;

namespace Notifications.IntegrationTests.Persistence;

[Collection(PersistencePostgresCollection.Name)]
public sealed class DatabaseMigratorTests(PostgresServerFixture postgres)
{
    private static CancellationToken CancellationToken => TestContext.Current.CancellationToken;

    [Fact]
    public async Task MigrateAsync_FreshDatabase_AppliesEveryEmbeddedScriptAndRecordsItsChecksum()
    {
        await using var dataSource = NpgsqlDataSource.Create(await postgres.CreateDatabaseAsync());

        var result = await CreateMigrator(dataSource).MigrateAsync(CancellationToken);

        Assert.Equal(EmbeddedMigrations.All, result.AppliedScripts);
        Assert.Equal(EmbeddedMigrations.Latest.Version, result.SchemaVersion);
        var recorded = await ReadSchemaVersionsAsync(dataSource);
        Assert.Equal(EmbeddedMigrations.All.Select(script => (script.Version, script.Name, script.Checksum)), recorded);
        Assert.True(await ScalarAsync<bool>(dataSource, "SELECT to_regclass('delivery_jobs') IS NOT NULL"));
    }

    [Fact]
    public async Task MigrateAsync_RunAgain_AppliesNothingAndLeavesTheHistoryAsItWas()
    {
        await using var dataSource = NpgsqlDataSource.Create(await postgres.CreateDatabaseAsync());
        var migrator = CreateMigrator(dataSource);
        await migrator.MigrateAsync(CancellationToken);
        var firstAppliedAt = await ScalarAsync<DateTime>(dataSource, "SELECT max(applied_at) FROM schema_versions");

        var second = await migrator.MigrateAsync(CancellationToken);

        Assert.Empty(second.AppliedScripts);
        Assert.Equal(EmbeddedMigrations.Latest.Version, second.SchemaVersion);
        Assert.Equal(EmbeddedMigrations.All.Count, (int)await ScalarAsync<long>(dataSource, "SELECT count(*) FROM schema_versions"));
        Assert.Equal(firstAppliedAt, await ScalarAsync<DateTime>(dataSource, "SELECT max(applied_at) FROM schema_versions"));
    }

    [Fact]
    public async Task MigrateAsync_TwoMigratorsRacing_BothSucceedAndEachScriptIsAppliedOnce()
    {
        var connectionString = await postgres.CreateDatabaseAsync();
        await using var first = NpgsqlDataSource.Create(connectionString);
        await using var second = NpgsqlDataSource.Create(connectionString);

        var results = await Task.WhenAll(
            Task.Run(() => CreateMigrator(first).MigrateAsync(CancellationToken), CancellationToken),
            Task.Run(() => CreateMigrator(second).MigrateAsync(CancellationToken), CancellationToken));

        Assert.Equal(EmbeddedMigrations.All, results.SelectMany(result => result.AppliedScripts).OrderBy(script => script.Version));
        Assert.All(results, result => Assert.Equal(EmbeddedMigrations.Latest.Version, result.SchemaVersion));
        Assert.Equal(EmbeddedMigrations.All.Count, (int)await ScalarAsync<long>(first, "SELECT count(*) FROM schema_versions"));
    }

    [Fact]
    public async Task MigrateAsync_AnotherSessionHoldsTheMigrationLock_WaitsUntilItIsReleased()
    {
        var connectionString = await postgres.CreateDatabaseAsync();
        await using var dataSource = NpgsqlDataSource.Create(connectionString);
        await using var holder = await dataSource.OpenConnectionAsync(CancellationToken);
        await using (var take = new NpgsqlCommand($"SELECT pg_advisory_lock({DatabaseMigrator.AdvisoryLockKey})", holder))
        {
            await take.ExecuteNonQueryAsync(CancellationToken);
        }

        var migration = CreateMigrator(dataSource).MigrateAsync(CancellationToken);
        await Task.Delay(TimeSpan.FromMilliseconds(500), CancellationToken);
        Assert.False(migration.IsCompleted);
        Assert.False(await ScalarAsync<bool>(dataSource, "SELECT to_regclass('schema_versions') IS NOT NULL"));

        await using (var release = new NpgsqlCommand($"SELECT pg_advisory_unlock({DatabaseMigrator.AdvisoryLockKey})", holder))
        {
            await release.ExecuteNonQueryAsync(CancellationToken);
        }

        var result = await migration.WaitAsync(TimeSpan.FromSeconds(30), CancellationToken);
        Assert.Equal(EmbeddedMigrations.All, result.AppliedScripts);
    }

    [Fact]
    public async Task MigrateAsync_AppliedScriptWasEdited_FailsNamingTheScript()
    {
        await using var dataSource = NpgsqlDataSource.Create(await postgres.CreateDatabaseAsync());
        await CreateMigrator(dataSource).MigrateAsync(CancellationToken);
        var original = EmbeddedMigrations.All[0];
        var edited = original with { Sql = original.Sql + "\nCREATE TABLE added_later (id integer);\n" };

        var error = await Assert.ThrowsAsync<MigrationChecksumMismatchException>(
            () => CreateMigrator(dataSource, [edited, .. EmbeddedMigrations.All.Skip(1)]).MigrateAsync(CancellationToken));

        Assert.Equal(original.Name, error.ScriptName);
        Assert.Contains(original.Name, error.Message);
        Assert.False(await ScalarAsync<bool>(dataSource, "SELECT to_regclass('added_later') IS NOT NULL"));
    }

    [Fact]
    public async Task MigrateAsync_NewScriptAdded_AppliesOnlyTheNewScript()
    {
        await using var dataSource = NpgsqlDataSource.Create(await postgres.CreateDatabaseAsync());
        await CreateMigrator(dataSource).MigrateAsync(CancellationToken);
        var added = MigrationScript.FromFile(
            $"{EmbeddedMigrations.Latest.Version + 1:D4}_add_test_table.sql", "CREATE TABLE added_by_test (id integer);");

        var result = await CreateMigrator(dataSource, [.. EmbeddedMigrations.All, added]).MigrateAsync(CancellationToken);

        Assert.Equal([added], result.AppliedScripts);
        Assert.Equal(added.Version, result.SchemaVersion);
        Assert.True(await ScalarAsync<bool>(dataSource, "SELECT to_regclass('added_by_test') IS NOT NULL"));
    }

    [Fact]
    public async Task MigrateAsync_ScriptFails_RollsBackThatScriptAndDoesNotRecordIt()
    {
        await using var dataSource = NpgsqlDataSource.Create(await postgres.CreateDatabaseAsync());
        var failing = MigrationScript.FromFile(
            $"{EmbeddedMigrations.Latest.Version + 1:D4}_fails_halfway.sql",
            "CREATE TABLE half_done (id integer);\nSELECT 1 / 0;");

        await Assert.ThrowsAsync<PostgresException>(
            () => CreateMigrator(dataSource, [.. EmbeddedMigrations.All, failing]).MigrateAsync(CancellationToken));

        Assert.False(await ScalarAsync<bool>(dataSource, "SELECT to_regclass('half_done') IS NOT NULL"));
        var recorded = await ReadSchemaVersionsAsync(dataSource);
        Assert.Equal(EmbeddedMigrations.All.Select(script => script.Version), recorded.Select(row => row.Version));
        var status = await CreateMigrator(dataSource, [.. EmbeddedMigrations.All, failing]).ReadStatusAsync(CancellationToken);
        Assert.Equal([failing], status.Pending);
    }

    private static async Task<List<(int Version, string Name, string Checksum)>> ReadSchemaVersionsAsync(NpgsqlDataSource dataSource)
    {
        await using var command = dataSource.CreateCommand("SELECT version, name, checksum FROM schema_versions ORDER BY version");
        await using var reader = await command.ExecuteReaderAsync(CancellationToken);
        var rows = new List<(int, string, string)>();
        while (await reader.ReadAsync(CancellationToken))
        {
            rows.Add((reader.GetInt32(0), reader.GetString(1), reader.GetString(2)));
        }

        return rows;
    }
}
