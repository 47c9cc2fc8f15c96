using System.Diagnostics;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Hosting;

namespace Notifications.ServiceDefaults.Telemetry;

/// <summary>
/// Does for the framework's own request span what OpenTelemetry's ASP.NET Core instrumentation package would:
/// names it after the route template (low cardinality), adds the HTTP semantic-convention tags, and drops
/// health probes so they don't drown real traffic in traces.
/// </summary>
internal sealed class HttpServerActivityStartupFilter : IStartupFilter
{
    public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
    {
        app.Use(EnrichRequestActivityAsync);
        next(app);
    };

    private static async Task EnrichRequestActivityAsync(HttpContext context, RequestDelegate next)
    {
        var activity = Activity.Current;
        if (activity is null || activity.Source.Name != "Microsoft.AspNetCore")
        {
            await next(context);
            return;
        }

        if (context.Request.Path.IsHealthProbe())
        {
            activity.IsAllDataRequested = false;
            activity.ActivityTraceFlags &= ~ActivityTraceFlags.Recorded;
            await next(context);
            return;
        }

        var request = context.Request;
        activity.SetTag("http.request.method", request.Method);
        activity.SetTag("url.scheme", request.Scheme);
        activity.SetTag("url.path", request.Path.Value);
        activity.SetTag("server.address", request.Host.Host);
        if (request.Host.Port is { } port)
        {
            activity.SetTag("server.port", port);
        }

        try
        {
            await next(context);
        }
        catch (Exception exception)
        {
            activity.SetStatus(ActivityStatusCode.Error, exception.Message);
            activity.AddException(exception);
            throw;
        }
        finally
        {
            var route = (context.GetEndpoint() as RouteEndpoint)?.RoutePattern.RawText;
            if (route is not null)
            {
                activity.SetTag("http.route", route);
                activity.DisplayName = $"{request.Method} {route}";
            }
            else
            {
                activity.DisplayName = request.Method;
            }

            var statusCode = context.Response.StatusCode;
            activity.SetTag("http.response.status_code", statusCode);
            if (statusCode >= StatusCodes.Status500InternalServerError)
            {
                activity.SetStatus(ActivityStatusCode.Error);
            }
        }
    }
}
