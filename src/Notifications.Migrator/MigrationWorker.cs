using System.Diagnostics;
using Notifications.Domain;
using Notifications.Domain.Persistence;
using Notifications.Domain.Persistence.Migrations;
using Npgsql;

namespace Notifications.Migrator;

/// <summary>Runs the migrations once, records the outcome as the process exit code and stops the host.</summary>
internal sealed class MigrationWorker(
    IConfiguration configuration,
    IHostApplicationLifetime lifetime,
    TimeProvider timeProvider,
    ILoggerFactory loggerFactory,
    ILogger<MigrationWorker> logger) : BackgroundService
{
    // Long enough for a Postgres the AppHost has just started; short enough to fail visibly when it is not coming.
    private static readonly TimeSpan DatabaseReadinessTimeout = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan RetryDelay = TimeSpan.FromSeconds(1);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var activity = MigratorTelemetry.ActivitySource.StartActivity("migrate " + ResourceNames.Database);
        try
        {
            var connectionString = configuration.GetConnectionString(ResourceNames.Database);
            if (string.IsNullOrWhiteSpace(connectionString))
            {
                throw new InvalidOperationException(
                    $"No database to migrate: set 'ConnectionStrings:{ResourceNames.Database}' " +
                    $"(environment variable ConnectionStrings__{ResourceNames.Database}), or start the system through Notifications.AppHost.");
            }

            await using var dataSource = new NpgsqlDataSourceBuilder(connectionString).UseLoggerFactory(loggerFactory).Build();
            var migrator = new DatabaseMigrator(dataSource, loggerFactory.CreateLogger<DatabaseMigrator>());
            var result = await DatabaseStartupRetry.ExecuteAsync(
                migrator.MigrateAsync, DatabaseReadinessTimeout, RetryDelay, timeProvider, logger, stoppingToken);

            activity?.SetTag("db.namespace", new NpgsqlConnectionStringBuilder(connectionString).Database);
            activity?.SetTag("notifications.migrations.applied", result.AppliedScripts.Count);
            activity?.SetTag("notifications.schema.version", result.SchemaVersion);
            MigratorLog.MigrationSucceeded(logger, result.AppliedScripts.Count, result.SchemaVersion);
            Environment.ExitCode = 0;
        }
        catch (Exception exception)
        {
            activity?.SetStatus(ActivityStatusCode.Error, exception.Message);
            activity?.AddException(exception);
            MigratorLog.MigrationFailed(logger, exception);
            Environment.ExitCode = 1;
        }
        finally
        {
            lifetime.StopApplication();
        }
    }
}
