using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Notifications.Domain.Persistence;

namespace Microsoft.Extensions.DependencyInjection;

public static class SchemaVersionGuardServiceCollectionExtensions
{
    /// <summary>
    /// Makes the host refuse to start while the database (<c>ConnectionStrings:notificationsdb</c> unless configured
    /// otherwise) lacks a migration embedded in this build, with a message saying how to apply them.
    /// </summary>
    public static IServiceCollection AddSchemaVersionGuard(
        this IServiceCollection services, Action<SchemaVersionGuardOptions>? configure = null)
    {
        var options = services.AddOptions<SchemaVersionGuardOptions>();
        if (configure is not null)
        {
            options.Configure(configure);
        }

        services.TryAddSingleton(TimeProvider.System);
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, SchemaVersionGuard>());
        return services;
    }
}
