using Microsoft.Extensions.Logging.Abstractions;
using Notifications.Hosting.Processes;
using Notifications.Hosting.Provisioning;
using Xunit;

namespace Notifications.Testing;

/// <summary>
/// A real Redis server for a test class or collection, provisioned like the AppHost does, on a free port in a
/// temp directory, without persistence. <see cref="StopAsync"/> and <see cref="StartAsync"/> simulate an outage.
/// </summary>
public sealed class RedisServerFixture : IAsyncLifetime
{
    private static readonly TimeSpan ReadyTimeout = TimeSpan.FromSeconds(30);
    private readonly StringWriter _serverOutput = new();
    private readonly SemaphoreSlim _gate = new(1, 1);
    private string? _directory;
    private ProcessSpec? _spec;
    private RedisServerSettings? _settings;
    private ManagedProcess? _server;

    /// <summary>StackExchange.Redis format: <c>127.0.0.1:port,password=...</c>.</summary>
    public string ConnectionString => Settings.ConnectionString;

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

    private RedisServerSettings Settings => _settings ?? throw new InvalidOperationException("The Redis fixture is not initialized.");

    public async ValueTask InitializeAsync()
    {
        _directory = TestDirectory.Create("redis");
        var redisServer = await new ServerBinaries(NullLogger.Instance, allowPackageInstall: true).ResolveRedisServerAsync(CancellationToken.None);
        _settings = new RedisServerSettings(_directory, FreePort.Get(), Secret.Generate()) { AppendOnly = false };
        _spec = RedisServerSetup.PrepareLocal(redisServer, _settings);
        await StartAsync();
    }

    /// <summary>Starts the server again on the same port (after <see cref="StopAsync"/>); a no-op when it runs.</summary>
    public async Task StartAsync()
    {
        await _gate.WaitAsync();
        try
        {
            if (_server is { Exited.IsCompleted: false })
            {
                return;
            }

            _server = ManagedProcess.Start("redis", _spec ?? throw new InvalidOperationException("The Redis fixture is not initialized."),
                new ResourceOutput(TextWriter.Synchronized(_serverOutput)));
            await RedisServerSetup.WaitUntilAnsweringAsync(Settings.Port, Settings.Password, _server.Exited, ReadyTimeout, CancellationToken.None);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Stops the server; clients see connection failures until <see cref="StartAsync"/>.</summary>
    public async Task StopAsync()
    {
        await _gate.WaitAsync();
        try
        {
            if (_server is not null)
            {
                await _server.StopAsync(NativeMethods.SigTerm, TimeSpan.FromSeconds(10));
                await _server.DisposeAsync();
                _server = null;
            }
        }
        finally
        {
            _gate.Release();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        if (_directory is not null)
        {
            TestDirectory.Delete(_directory);
        }

        _gate.Dispose();
    }
}
