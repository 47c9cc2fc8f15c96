using Microsoft.Extensions.Logging.Abstractions;
using Notifications.Hosting.Processes;
using Notifications.Hosting.Provisioning;
using Npgsql;
using Xunit;

namespace Notifications.Testing;

/// <summary>
/// A real PostgreSQL server for a test class or collection, provisioned like the AppHost does (local binaries,
/// as the 'postgres' user when root), on a free port in a temp directory, tuned for speed (fsync off).
/// </summary>
public sealed class PostgresServerFixture : IAsyncLifetime
{
    private static readonly TimeSpan ReadyTimeout = TimeSpan.FromSeconds(60);
    private readonly StringWriter _serverOutput = new();
    private string? _directory;
    private PostgresServerSettings? _settings;
    private ManagedProcess? _server;

    /// <summary>The superuser's connection string, database "postgres".</summary>
    public string AdminConnectionString => Settings.AdminConnectionString;

    /// <summary>What the server has logged, for diagnosing a failing test.</summary>
    public string ServerOutput
    {
        get
        {
            lock (_serverOutput)
            {
                return _serverOutput.ToString();
            }
        }
    }

    private PostgresServerSettings Settings => _settings ?? throw new InvalidOperationException("The Postgres fixture is not initialized.");

    public async ValueTask InitializeAsync()
    {
        _directory = TestDirectory.Create("postgres");
        var binDirectory = await new ServerBinaries(NullLogger.Instance, allowPackageInstall: true)
            .ResolvePostgresBinDirectoryAsync(CancellationToken.None);
        _settings = new PostgresServerSettings(Path.Combine(_directory, "data"), FreePort.Get(), Secret.Generate())
        {
            ServerParameters = PostgresServerSetup.FastUnsafeTestParameters,
        };
        var spec = await PostgresServerSetup.PrepareLocalAsync(binDirectory, _settings, CancellationToken.None);
        _server = ManagedProcess.Start("postgres", spec, new ResourceOutput(TextWriter.Synchronized(_serverOutput)));
        try
        {
            await PostgresServerSetup.WaitUntilAcceptingConnectionsAsync(AdminConnectionString, _server.Exited, ReadyTimeout, CancellationToken.None);
        }
        catch (Exception exception)
        {
            throw new InvalidOperationException($"{exception.Message}{Environment.NewLine}Server output:{Environment.NewLine}{ServerOutput}", exception);
        }
    }

    /// <summary>Creates a fresh, empty database and returns its connection string.</summary>
    public async Task<string> CreateDatabaseAsync(string? name = null)
    {
        name ??= $"test_{Guid.NewGuid():N}";
        await using (var connection = new NpgsqlConnection(AdminConnectionString))
        {
            await connection.OpenAsync();
            await using var create = new NpgsqlCommand($"CREATE DATABASE {PostgresServerSetup.QuoteIdentifier(name)}", connection);
            await create.ExecuteNonQueryAsync();
        }

        return Settings.ConnectionStringFor(name);
    }

    public async ValueTask DisposeAsync()
    {
        NpgsqlConnection.ClearAllPools();
        if (_server is not null)
        {
            await _server.StopAsync(NativeMethods.SigInt, TimeSpan.FromSeconds(30));
            await _server.DisposeAsync();
        }

        if (_directory is not null)
        {
            TestDirectory.Delete(_directory);
        }
    }
}
