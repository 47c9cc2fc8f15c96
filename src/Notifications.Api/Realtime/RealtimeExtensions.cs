using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Notifications.Api.Realtime;

internal static class RealtimeExtensions
{
    /// <summary>The event stream's shared Redis subscriptions and the Ably token requests, with their options (validated on start).</summary>
    public static void AddRealtime(this IHostApplicationBuilder builder)
    {
        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<IValidateOptions<RealtimeOptions>, RealtimeOptionsValidator>();
        builder.Services.AddOptions<RealtimeOptions>().BindConfiguration(RealtimeOptions.SectionName).ValidateOnStart();
        builder.AddAblyOptions();
        builder.Services.AddSingleton<UserEventHub>();
    }
}
