using Notifications.IntegrationTests.Persistence;
using Notifications.Testing;

namespace Notifications.IntegrationTests.Api;

/// <summary>The servers an API host needs: a Redis, and a Postgres with one migrated database for the hosts of a collection.</summary>
public sealed class ApiTestServers : IAsyncLifetime
{
    private string? _databaseConnectionString;

    public RedisServerFixture Redis { get; } = new();

    public PostgresServerFixture Postgres { get; } = new();

    /// <summary>The shared database, migrated to the current schema.</summary>
    public string DatabaseConnectionString =>
        _databaseConnectionString ?? throw new InvalidOperationException("The API test servers are not initialized.");

    public async ValueTask InitializeAsync()
    {
        await Task.WhenAll(Redis.InitializeAsync().AsTask(), Postgres.InitializeAsync().AsTask());
        _databaseConnectionString = await PersistenceTestDatabase.CreateMigratedDatabaseAsync(Postgres);
    }

    public async ValueTask DisposeAsync()
    {
        await Redis.DisposeAsync();
        await Postgres.DisposeAsync();
    }
}
