using Microsoft.Extensions.Diagnostics.HealthChecks;
using StackExchange.Redis;

namespace Notifications.ServiceDefaults.Clients;

internal sealed class RedisHealthCheck(IConnectionMultiplexer connection) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            var latency = await connection.GetDatabase().PingAsync().WaitAsync(cancellationToken);
            return HealthCheckResult.Healthy($"PING answered in {latency.TotalMilliseconds:0.#} ms");
        }
        catch (Exception exception) when (exception is RedisException or TimeoutException)
        {
            return new HealthCheckResult(context.Registration.FailureStatus, "Redis did not answer PING", exception);
        }
    }
}
