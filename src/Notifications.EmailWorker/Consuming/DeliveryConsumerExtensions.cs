using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Notifications.Domain.Model;
using Notifications.EmailWorker.Consuming;
using Notifications.EmailWorker.Resilience;

namespace Microsoft.Extensions.Hosting;

internal static class DeliveryConsumerExtensions
{
    /// <summary>
    /// Registers a <see cref="ChannelConsumer"/> for every channel (each consumes its stream only when a deliverer for
    /// its channel is registered, whatever order the channels are added in), its options (section <c>Worker</c>,
    /// validated on start), the provider circuit breakers and their health check. Needs the database and Redis clients.
    /// </summary>
    public static IHostApplicationBuilder AddDeliveryConsumer(this IHostApplicationBuilder builder)
    {
        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<IValidateOptions<WorkerOptions>, WorkerOptionsValidator>();
        builder.Services.AddOptions<WorkerOptions>().BindConfiguration(WorkerOptions.SectionName).ValidateOnStart();
        builder.Services.TryAddSingleton<WorkerIdentity>();
        builder.Services.TryAddSingleton<JobStore>();
        builder.Services.TryAddSingleton<ProviderCircuitBreaker>();
        builder.Services.AddHealthChecks().AddCheck<CircuitBreakerHealthCheck>(CircuitBreakerHealthCheck.Name);
        foreach (var channel in Enum.GetValues<DeliveryChannel>())
        {
            builder.Services.AddSingleton<IHostedService>(services => ActivatorUtilities.CreateInstance<ChannelConsumer>(services, channel));
        }
        return builder;
    }
}
