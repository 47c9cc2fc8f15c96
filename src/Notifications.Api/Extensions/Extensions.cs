using Notifications.Api.Security;
using Notifications.Domain;

namespace Notifications.Api.Extensions;

internal static class Extensions
{
    public static void AddApiServices(this IHostApplicationBuilder builder)
    {
        builder.AddRedisClient(ResourceNames.Redis);
        builder.AddApiSecurity();
    }
}
