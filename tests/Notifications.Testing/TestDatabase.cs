using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging.Abstractions;
using Notifications.Domain.Persistence;
using Notifications.Domain.Persistence.Migrations;
using Npgsql;
using Xunit;

namespace Notifications.Testing;

/// <summary>Databases on a <see cref="PostgresServerFixture"/> migrated like production, and contexts and queries over them.</summary>
public static class TestDatabase
{
    public static DatabaseMigrator CreateMigrator(NpgsqlDataSource dataSource, IReadOnlyList<MigrationScript>? scripts = null) =>
        new(dataSource, scripts ?? EmbeddedMigrations.All, NullLogger<DatabaseMigrator>.Instance);

    public static async Task<string> CreateMigratedDatabaseAsync(PostgresServerFixture postgres)
    {
        var connectionString = await postgres.CreateDatabaseAsync();
        await using var dataSource = NpgsqlDataSource.Create(connectionString);
        await CreateMigrator(dataSource).MigrateAsync(TestContext.Current.CancellationToken);
        return connectionString;
    }

    public static NotificationsDbContext CreateContext(string connectionString) =>
        new(new DbContextOptionsBuilder<NotificationsDbContext>().UseNpgsql(connectionString).Options);

    public static async Task ExecuteAsync(NpgsqlDataSource dataSource, string sql)
    {
        await using var command = dataSource.CreateCommand(sql);
        await command.ExecuteNonQueryAsync(TestContext.Current.CancellationToken);
    }

    public static async Task<T> ScalarAsync<T>(NpgsqlDataSource dataSource, string sql)
    {
        await using var command = dataSource.CreateCommand(sql);
        return (T)(await command.ExecuteScalarAsync(TestContext.Current.CancellationToken))!;
    }
}
