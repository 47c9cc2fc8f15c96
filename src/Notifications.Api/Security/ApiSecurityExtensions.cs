using Notifications.Api.Apis;
using Notifications.Api.Problems;
using Notifications.Api.RateLimiting;

namespace Notifications.Api.Security;

/// <summary>The API's request edge in one place: problem details, authentication, the per-caller rate limit, authorization.</summary>
public static class ApiSecurityExtensions
{
    public static IHostApplicationBuilder AddApiSecurity(this IHostApplicationBuilder builder)
    {
        builder.Services.AddApiProblemDetails();
        builder.AddApiAuthentication();
        builder.AddUserRateLimiting();
        return builder;
    }

    /// <summary>
    /// Adds the middleware in the order it must run, and maps <c>POST /api/dev/tokens</c> and <c>/api/dev/mailbox</c> in Development only.
    /// </summary>
    public static WebApplication UseApiSecurity(this WebApplication app)
    {
        app.UseApiProblemDetails();
        app.UseAuthentication();
        // Between the two: callers are counted by their user id, and unauthenticated floods are counted as well.
        app.UseUserRateLimiting();
        app.UseAuthorization();
        if (app.Environment.IsDevelopment())
        {
            app.MapDevTokenApi();
            app.MapDevMailboxApi();
        }
        return app;
    }
}
