using Microsoft.Extensions.Hosting;

namespace Notifications.Hosting;

/// <summary>The running resource graph: provisions infrastructure, starts projects in dependency order, supervises them.</summary>
public sealed class DistributedApplication : IAsyncDisposable, IDisposable
{
    private readonly IHost _host;

    internal DistributedApplication(IHost host) => _host = host;

    public IServiceProvider Services => _host.Services;

    public static IDistributedApplicationBuilder CreateBuilder(string[] args) => new DistributedApplicationBuilder(args);

    /// <summary>Runs until Ctrl+C / SIGTERM, or until start-up fails (then the process exit code is 1).</summary>
    public Task RunAsync(CancellationToken cancellationToken = default) => _host.RunAsync(cancellationToken);

    public void Run() => _host.Run();

    public void Dispose() => _host.Dispose();

    public ValueTask DisposeAsync() => _host is IAsyncDisposable asyncDisposable ? asyncDisposable.DisposeAsync() : ValueTask.CompletedTask;
}
