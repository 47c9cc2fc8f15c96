using Xunit;

namespace Notifications.Testing;

/// <summary>
/// The servers a service needs, for a test collection: a Redis, and a Postgres with one migrated database shared by the
/// collection (tests that need a database of their own create one with <see cref="TestDatabase.CreateMigratedDatabaseAsync"/>).
/// </summary>
public sealed class TestServers : IAsyncLifetime
{
    private string? _databaseConnectionString;

    public RedisServerFixture Redis { get; } = new();

    public PostgresServerFixture Postgres { get; } = new();

    /// <summary>The shared database, migrated to the current schema.</summary>
    public string DatabaseConnectionString =>
        _databaseConnectionString ?? throw new InvalidOperationException("The test servers are not initialized.");

    public async ValueTask InitializeAsync()
    {
        await Task.WhenAll(Redis.InitializeAsync().AsTask(), Postgres.InitializeAsync().AsTask());
        _databaseConnectionString = await TestDatabase.CreateMigratedDatabaseAsync(Postgres);
    }

    public async ValueTask DisposeAsync()
    {
        await Redis.DisposeAsync();
        await Postgres.DisposeAsync();
    }
}
