using Microsoft.Extensions.Hosting;
using OpenTelemetry;

namespace Notifications.ServiceDefaults.Telemetry;

/// <summary>
/// Ties the SDK to the host: it starts listening before the first request and flushes everything it
/// buffered when the host stops, so the last spans of a shutting-down service are not lost.
/// </summary>
internal sealed class OpenTelemetryLifetime(OpenTelemetrySdk sdk) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken)
    {
        sdk.Dispose();
        return Task.CompletedTask;
    }
}
