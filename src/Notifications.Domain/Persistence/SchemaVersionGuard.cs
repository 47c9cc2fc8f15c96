using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Notifications.Domain.Persistence.Migrations;
using Npgsql;

namespace Notifications.Domain.Persistence;

/// <summary>
/// Stops a service from starting against a database that lacks migrations this build needs. It checks in
/// <see cref="StartingAsync"/>, which the host runs before any hosted service (web server, consumers) starts.
/// </summary>
public sealed class SchemaVersionGuard(
    IConfiguration configuration,
    IOptions<SchemaVersionGuardOptions> options,
    TimeProvider timeProvider,
    ILogger<SchemaVersionGuard> logger) : IHostedLifecycleService
{
    public async Task StartingAsync(CancellationToken cancellationToken)
    {
        var settings = options.Value;
        var connectionString = configuration.GetConnectionString(settings.ConnectionName);
        if (string.IsNullOrWhiteSpace(connectionString))
        {
            throw new InvalidOperationException(
                $"The schema check has no connection string. Set 'ConnectionStrings:{settings.ConnectionName}' " +
                $"(environment variable ConnectionStrings__{settings.ConnectionName}), or start the system through Notifications.AppHost.");
        }

        await using var dataSource = NpgsqlDataSource.Create(connectionString);
        var migrator = new DatabaseMigrator(dataSource, NullLogger<DatabaseMigrator>.Instance);
        var status = await DatabaseStartupRetry.ExecuteAsync(
            migrator.ReadStatusAsync, settings.ReadinessTimeout, settings.RetryDelay, timeProvider, logger, cancellationToken);

        if (!status.IsCurrent)
        {
            var exception = new SchemaOutdatedException(status, settings.ConnectionName);
            PersistenceLog.SchemaOutdated(logger, exception);
            throw exception;
        }

        PersistenceLog.SchemaCurrent(logger, status.CurrentVersion);
    }

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
