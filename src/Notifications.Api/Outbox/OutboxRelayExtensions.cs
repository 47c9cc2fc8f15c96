using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Notifications.Api.Outbox;

internal static class OutboxRelayExtensions
{
    /// <summary>Runs the <see cref="OutboxRelay"/> (needs the database and Redis clients registered).</summary>
    public static void AddOutboxRelay(this IHostApplicationBuilder builder)
    {
        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<IValidateOptions<OutboxRelayOptions>, OutboxRelayOptionsValidator>();
        builder.Services.AddOptions<OutboxRelayOptions>().BindConfiguration(OutboxRelayOptions.SectionName).ValidateOnStart();
        builder.Services.AddHostedService<OutboxRelay>();
    }
}
