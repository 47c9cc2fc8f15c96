using Notifications.Api.CronJobs;
using Notifications.Api.Outbox;
using Notifications.Api.Security;
using Notifications.Domain;
using Notifications.Domain.Persistence;

namespace Notifications.Api.Extensions;

internal static class Extensions
{
    public static void AddApiServices(this IHostApplicationBuilder builder)
    {
        builder.AddNpgsqlDbContext<NotificationsDbContext>(ResourceNames.Database);
        builder.Services.AddSchemaVersionGuard();
        builder.AddRedisClient(ResourceNames.Redis);
        builder.AddApiSecurity();
        builder.AddOutboxRelay();
        builder.AddCronJobSchedulerClient();
    }
}
