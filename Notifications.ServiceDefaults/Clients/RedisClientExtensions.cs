using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Notifications.ServiceDefaults.Clients;
using StackExchange.Redis;

namespace Microsoft.Extensions.Hosting;

/// <summary>Registers a Redis client the way Aspire.StackExchange.Redis does (that package is not obtainable here).</summary>
public static class RedisClientExtensions
{
    /// <summary>
    /// Registers an <see cref="IConnectionMultiplexer"/> singleton from <c>ConnectionStrings:{connectionName}</c>,
    /// an <see cref="IDatabase"/> whose calls are traced, and a health check named after the connection.
    /// </summary>
    public static IHostApplicationBuilder AddRedisClient(this IHostApplicationBuilder builder, string connectionName)
    {
        var connectionString = ConnectionStrings.GetRequired(builder.Configuration, connectionName, "Redis");
        var options = ConfigurationOptions.Parse(connectionString);
        // Redis is transport, not the source of truth: a service starts while Redis is down and reconnects when it returns.
        options.AbortOnConnectFail = false;

        builder.Services.AddSingleton<IConnectionMultiplexer>(_ => ConnectionMultiplexer.Connect(options));
        builder.Services.AddSingleton(services =>
            TracingRedisDatabase.Create(services.GetRequiredService<IConnectionMultiplexer>().GetDatabase(), options));
        builder.Services.AddHealthChecks().Add(new HealthCheckRegistration(
            connectionName,
            services => new RedisHealthCheck(services.GetRequiredService<IConnectionMultiplexer>()),
            failureStatus: null,
            tags: ["ready"]));
        return builder;
    }
}
