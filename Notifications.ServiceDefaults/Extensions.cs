using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Notifications.ServiceDefaults.Resilience;
using Notifications.ServiceDefaults.Telemetry;

namespace Microsoft.Extensions.Hosting;

/// <summary>
/// Cross-cutting defaults every Notifications service shares: telemetry, health checks and HTTP client resilience.
/// Mirrors the ServiceDefaults project of the Aspire templates.
/// </summary>
public static class Extensions
{
    /// <summary>Tag of the health checks that say whether the process is alive (as opposed to ready).</summary>
    public const string LiveTag = "live";

    public const string HealthEndpointPath = "/health";
    public const string AlivenessEndpointPath = "/alive";

    public static TBuilder AddServiceDefaults<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        builder.ConfigureOpenTelemetry();
        builder.AddDefaultHealthChecks();
        builder.Services.ConfigureHttpClientDefaults(http => http.AddDefaultResilienceHandler());
        return builder;
    }

    public static TBuilder AddDefaultHealthChecks<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        builder.Services.AddHealthChecks()
            .AddCheck("self", () => HealthCheckResult.Healthy(), [LiveTag]);
        return builder;
    }

    /// <summary>
    /// Maps <c>/health</c> (ready: every check must pass) and <c>/alive</c> (live: only the checks tagged "live").
    /// They are mapped in every environment because container orchestrators probe them.
    /// </summary>
    public static WebApplication MapDefaultEndpoints(this WebApplication app)
    {
        app.MapHealthChecks(HealthEndpointPath, new HealthCheckOptions { ResponseWriter = HealthReportWriter.WriteAsync });
        app.MapHealthChecks(AlivenessEndpointPath, new HealthCheckOptions
        {
            Predicate = registration => registration.Tags.Contains(LiveTag),
            ResponseWriter = HealthReportWriter.WriteAsync,
        });
        return app;
    }

    internal static bool IsHealthProbe(this Microsoft.AspNetCore.Http.PathString path) =>
        path.StartsWithSegments(HealthEndpointPath) || path.StartsWithSegments(AlivenessEndpointPath);
}
