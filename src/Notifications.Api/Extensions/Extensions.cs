using Notifications.Api.CronJobs;
using Notifications.Api.Outbox;
using Notifications.Api.Realtime;
using Notifications.Api.Security;
using Notifications.Api.Sending;
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
        builder.AddRealtime();
        builder.AddNotificationSending();
        builder.AddUnsubscribeTokens();
        builder.AddEmailQuota();
        builder.AddCronJobSchedulerClient();
        builder.Services.AddOpenApi();
    }

    /// <summary>The OpenAPI document at <c>/openapi/v1.json</c>, in Development only.</summary>
    public static WebApplication MapApiDocument(this WebApplication app)
    {
        if (app.Environment.IsDevelopment())
        {
            app.MapOpenApi();
        }
        return app;
    }
}
