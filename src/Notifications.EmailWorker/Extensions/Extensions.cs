using Notifications.Domain;
using Notifications.Domain.Persistence;

namespace Notifications.EmailWorker.Extensions;

internal static class Extensions
{
    public static void AddEmailWorkerServices(this IHostApplicationBuilder builder)
    {
        builder.AddNpgsqlDbContext<NotificationsDbContext>(ResourceNames.Database);
        builder.Services.AddSchemaVersionGuard();
        builder.AddRedisClient(ResourceNames.Redis);
        builder.AddWebhookAlerts();
        builder.AddDeliveryConsumer();
        builder.AddInAppChannel();
        builder.AddEmailChannel();
    }
}
