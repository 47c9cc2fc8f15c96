using Notifications.Domain;

namespace Notifications.EmailWorker.Extensions;

internal static class Extensions
{
    public static void AddEmailWorkerServices(this IHostApplicationBuilder builder)
    {
        builder.AddRedisClient(ResourceNames.Redis);
    }
}
