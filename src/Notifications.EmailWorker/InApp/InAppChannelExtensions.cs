using Microsoft.Extensions.DependencyInjection.Extensions;
using Notifications.Domain.Realtime;
using Notifications.EmailWorker.Delivery;
using Notifications.EmailWorker.InApp;

namespace Microsoft.Extensions.Hosting;

internal static class InAppChannelExtensions
{
    /// <summary>
    /// Registers the in-app deliverer (Redis pub/sub, and Ably when <see cref="AblyOptions"/> has a key; section
    /// <c>Ably</c>, validated on start). Needs the database and Redis clients.
    /// </summary>
    public static IHostApplicationBuilder AddInAppChannel(this IHostApplicationBuilder builder)
    {
        builder.AddAblyOptions();
        builder.Services.AddHttpClient(AblyPublisher.HttpClientName);
        builder.Services.TryAddSingleton<AblyPublisher>();
        builder.Services.TryAddSingleton<UnreadNotificationCounts>();
        builder.Services.AddSingleton<IChannelDeliverer, InAppDeliverer>();
        return builder;
    }
}
