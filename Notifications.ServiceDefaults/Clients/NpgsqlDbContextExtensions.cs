using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging;
using Notifications.ServiceDefaults.Clients;
using Npgsql;
using Npgsql.EntityFrameworkCore.PostgreSQL.Infrastructure;

namespace Microsoft.Extensions.Hosting;

/// <summary>Registers an EF Core context on Npgsql the way Aspire.Npgsql.EntityFrameworkCore.PostgreSQL does.</summary>
public static class NpgsqlDbContextExtensions
{
    /// <summary>
    /// Registers a pooled <typeparamref name="TContext"/> over one shared <see cref="NpgsqlDataSource"/> (also
    /// registered, for raw SQL and LISTEN/NOTIFY) from <c>ConnectionStrings:{connectionName}</c>, with retries on
    /// transient errors and a health check named after the connection.
    /// </summary>
    public static IHostApplicationBuilder AddNpgsqlDbContext<TContext>(
        this IHostApplicationBuilder builder,
        string connectionName,
        Action<NpgsqlDbContextOptionsBuilder>? configureNpgsql = null)
        where TContext : DbContext
    {
        var connectionString = ConnectionStrings.GetRequired(builder.Configuration, connectionName, "PostgreSQL");

        builder.Services.TryAddSingleton(services =>
        {
            var dataSourceBuilder = new NpgsqlDataSourceBuilder(connectionString);
            // Pooled connections are not reset on return: the services keep no session state (locks and settings are
            // transaction-scoped, no temporary tables), and the reset ran several statements on every rent, over a
            // thousand a second under load.
            dataSourceBuilder.ConnectionStringBuilder.NoResetOnClose = true;
            return dataSourceBuilder.UseLoggerFactory(services.GetRequiredService<ILoggerFactory>()).Build();
        });
        builder.Services.AddDbContextPool<TContext>((services, options) => options.UseNpgsql(
            services.GetRequiredService<NpgsqlDataSource>(),
            npgsql =>
            {
                npgsql.EnableRetryOnFailure();
                configureNpgsql?.Invoke(npgsql);
            }));
        builder.Services.AddHealthChecks().Add(new HealthCheckRegistration(
            connectionName,
            services => new NpgsqlHealthCheck(services.GetRequiredService<NpgsqlDataSource>()),
            failureStatus: null,
            tags: ["ready"]));
        return builder;
    }
}
