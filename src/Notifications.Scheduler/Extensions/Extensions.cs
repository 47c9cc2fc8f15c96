using Notifications.Domain;
using Notifications.Domain.Persistence;

namespace Notifications.Scheduler.Extensions;

internal static class Extensions
{
    public static void AddSchedulerServices(this IHostApplicationBuilder builder)
    {
        builder.AddNpgsqlDbContext<NotificationsDbContext>(ResourceNames.Database);
        builder.Services.AddSchemaVersionGuard();
        builder.AddRedisClient(ResourceNames.Redis);
    }
}
