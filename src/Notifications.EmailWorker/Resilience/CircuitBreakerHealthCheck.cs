using Microsoft.Extensions.Diagnostics.HealthChecks;
using Notifications.Domain.Resilience;

namespace Notifications.EmailWorker.Resilience;

/// <summary>
/// Degraded while any provider's circuit is open or half-open: the worker runs, but holds back that provider's jobs.
/// Degraded still answers 200, so orchestrators keep the worker while operators see why mail is late.
/// </summary>
internal sealed class CircuitBreakerHealthCheck(ProviderCircuitBreaker breaker) : IHealthCheck
{
    public const string Name = "provider-circuits";

    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var states = breaker.States();
        var data = states.ToDictionary(state => state.Provider, object (state) => state.State, StringComparer.Ordinal);
        var notClosed = states.Where(state => state.State != ProviderCircuitState.Closed).ToList();
        return Task.FromResult(notClosed.Count == 0
            ? HealthCheckResult.Healthy("Every provider circuit is closed.", data)
            : HealthCheckResult.Degraded(
                "Not calling: " + string.Join(", ", notClosed.Select(state =>
                    state.Until is { } until ? $"{state.Provider} ({state.State} until {until:O})" : $"{state.Provider} ({state.State})")),
                data: data));
    }
}
