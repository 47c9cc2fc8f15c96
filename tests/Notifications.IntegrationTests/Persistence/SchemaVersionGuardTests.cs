using System.Diagnostics;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Notifications.Domain;
using Notifications.Domain.Persistence;
using Notifications.Domain.Persistence.Migrations;
using Npgsql;
using static Notifications.Testing.TestDatabase;

namespace Notifications.IntegrationTests.Persistence;

[Collection(PersistencePostgresCollection.Name)]
public sealed class SchemaVersionGuardTests(PostgresServerFixture postgres)
{
    private static CancellationToken CancellationToken => TestContext.Current.CancellationToken;

    [Fact]
    public async Task StartingAsync_UnmigratedDatabase_RefusesAndSaysHowToRunTheMigrations()
    {
        var guard = CreateGuard(await postgres.CreateDatabaseAsync());

        var error = await Assert.ThrowsAsync<SchemaOutdatedException>(() => guard.StartingAsync(CancellationToken));

        Assert.Equal(0, error.Status.CurrentVersion);
        Assert.Contains("dotnet run --project src/Notifications.Migrator", error.Message);
        Assert.Contains($"ConnectionStrings__{ResourceNames.Database}", error.Message);
        Assert.Contains("Notifications.AppHost", error.Message);
        Assert.Contains(EmbeddedMigrations.Latest.Name, error.Message);
    }

    [Fact]
    public async Task StartingAsync_DatabaseLacksTheNewestScript_Refuses()
    {
        var connectionString = await CreateMigratedDatabaseAsync(postgres);
        await using (var dataSource = NpgsqlDataSource.Create(connectionString))
        await using (var forget = dataSource.CreateCommand($"DELETE FROM schema_versions WHERE version = {EmbeddedMigrations.Latest.Version}"))
        {
            await forget.ExecuteNonQueryAsync(CancellationToken);
        }

        var error = await Assert.ThrowsAsync<SchemaOutdatedException>(() => CreateGuard(connectionString).StartingAsync(CancellationToken));

        Assert.Equal([EmbeddedMigrations.Latest], error.Status.Pending);
        Assert.Contains(EmbeddedMigrations.Latest.Name, error.Message);
    }

    [Fact]
    public async Task StartingAsync_CurrentSchema_LetsTheServiceStart()
    {
        var guard = CreateGuard(await CreateMigratedDatabaseAsync(postgres));

        await guard.StartingAsync(CancellationToken);
    }

    [Fact]
    public async Task StartingAsync_DatabaseAppearsWhileWaiting_Starts()
    {
        var migrated = new NpgsqlConnectionStringBuilder(await CreateMigratedDatabaseAsync(postgres)).Database!;
        var name = "guard_waits_" + Guid.NewGuid().ToString("N");
        var connectionString = new NpgsqlConnectionStringBuilder(postgres.AdminConnectionString) { Database = name }.ConnectionString;
        var guard = CreateGuard(connectionString, readinessTimeout: TimeSpan.FromSeconds(30));

        var starting = guard.StartingAsync(CancellationToken);
        await Task.Delay(TimeSpan.FromSeconds(1), CancellationToken);
        Assert.False(starting.IsCompleted);
        // Cloning a migrated database makes the database appear already migrated, in one step.
        await using (var admin = NpgsqlDataSource.Create(postgres.AdminConnectionString))
        await using (var create = admin.CreateCommand($"CREATE DATABASE \"{name}\" TEMPLATE \"{migrated}\""))
        {
            await create.ExecuteNonQueryAsync(CancellationToken);
        }

        await starting.WaitAsync(TimeSpan.FromSeconds(30), CancellationToken);
    }

    [Fact]
    public async Task StartingAsync_DatabaseNeverBecomesReady_GivesUpAfterTheReadinessTimeout()
    {
        var connectionString = new NpgsqlConnectionStringBuilder(postgres.AdminConnectionString)
        {
            Database = "never_created_" + Guid.NewGuid().ToString("N"),
        }.ConnectionString;
        var guard = CreateGuard(connectionString, readinessTimeout: TimeSpan.FromSeconds(2));
        var stopwatch = Stopwatch.StartNew();

        var error = await Assert.ThrowsAsync<PostgresException>(() => guard.StartingAsync(CancellationToken));

        Assert.Equal(PostgresErrorCodes.InvalidCatalogName, error.SqlState);
        Assert.InRange(stopwatch.Elapsed, TimeSpan.Zero, TimeSpan.FromSeconds(15));
    }

    [Fact]
    public async Task AddSchemaVersionGuard_UnmigratedDatabase_HostFailsBeforeAnyOtherHostedServiceStarts()
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration[$"ConnectionStrings:{ResourceNames.Database}"] = await postgres.CreateDatabaseAsync();
        var probe = new StartProbe();
        builder.Services.AddHostedService(_ => probe);
        builder.Services.AddSchemaVersionGuard();
        using var host = builder.Build();

        await Assert.ThrowsAsync<SchemaOutdatedException>(() => host.StartAsync(CancellationToken));

        Assert.False(probe.Started);
    }

    private static SchemaVersionGuard CreateGuard(string connectionString, TimeSpan? readinessTimeout = null)
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection([new($"ConnectionStrings:{ResourceNames.Database}", connectionString)])
            .Build();
        var options = new SchemaVersionGuardOptions
        {
            ReadinessTimeout = readinessTimeout ?? TimeSpan.FromSeconds(5),
            RetryDelay = TimeSpan.FromMilliseconds(200),
        };
        return new SchemaVersionGuard(configuration, Options.Create(options), TimeProvider.System, NullLogger<SchemaVersionGuard>.Instance);
    }

    private sealed class StartProbe : IHostedService
    {
        public bool Started { get; private set; }

        public Task StartAsync(CancellationToken cancellationToken)
        {
            Started = true;
            return Task.CompletedTask;
        }

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
