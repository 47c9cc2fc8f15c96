using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Notifications.Api.Outbox;

internal static class OutboxRelayExtensions
{
    /// <summary>
    /// Runs the <see cref="OutboxRelay"/>, and the <see cref="OutboxWakeup"/> the API's writers signal (which runs even
    /// where the relay is disabled, since it also wakes the other replicas' relays). Needs the database and Redis
    /// clients registered.
    /// </summary>
    public static void AddOutboxRelay(this IHostApplicationBuilder builder)
    {
        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<IValidateOptions<OutboxRelayOptions>, OutboxRelayOptionsValidator>();
        builder.Services.AddOptions<OutboxRelayOptions>().BindConfiguration(OutboxRelayOptions.SectionName).ValidateOnStart();
        builder.Services.AddSingleton<OutboxRelayWake>();
        builder.Services.AddSingleton<OutboxWakeup>();
        builder.Services.AddHostedService(services => services.GetRequiredService<OutboxWakeup>());
        builder.Services.AddHostedService<OutboxRelay>();
    }
}
