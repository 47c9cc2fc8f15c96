using Notifications.Domain;

namespace Notifications.Scheduler.Extensions;

internal static class Extensions
{
    public static void AddSchedulerServices(this IHostApplicationBuilder builder)
    {
        builder.AddRedisClient(ResourceNames.Redis);
    }
}
