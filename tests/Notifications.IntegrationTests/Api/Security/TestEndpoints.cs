using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Notifications.Api.RateLimiting;
using Notifications.Api.Security;

namespace Notifications.IntegrationTests.Api.Security;

/// <summary>
/// Test-only endpoints that exercise the policies, the rate limit and the problem-details conventions through the
/// host's real middleware, before any product endpoint uses them.
/// </summary>
internal static class TestEndpoints
{
    public const string UserRoute = "/test/user";
    public const string ProducerRoute = "/test/producer";
    public const string AdminRoute = "/test/admin";
    public const string FailureRoute = "/test/failure";
    public const string BodyRoute = "/test/body";
    public const string InternalFailureMessage = "internal detail that must not leak";

    public sealed record TestBody(int Priority, string? Title);

    private static void Map(IEndpointRouteBuilder routes)
    {
        routes.MapGet(UserRoute, (HttpContext context) => context.User.GetUserId())
            .RequireAuthorization(Policies.User).RequireUserRateLimit();
        routes.MapGet(ProducerRoute, () => "producer").RequireAuthorization(Policies.Producer).RequireUserRateLimit();
        routes.MapGet(AdminRoute, () => "admin").RequireAuthorization(Policies.Admin).RequireUserRateLimit();
        routes.MapGet(FailureRoute, string () => throw new InvalidOperationException(InternalFailureMessage));
        routes.MapPost(BodyRoute, (TestBody body) => body.Priority);
    }

    /// <summary>
    /// Selects a test endpoint before the host's own routing runs; routing then keeps that endpoint, and the host's
    /// authentication, rate limiting and authorization middleware apply to it exactly as to a mapped one.
    /// </summary>
    internal sealed class StartupFilter : IStartupFilter
    {
        public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
        {
            var routes = new RouteBuilder(app);
            Map(routes);
            var endpoints = routes.DataSources.SelectMany(source => source.Endpoints).OfType<RouteEndpoint>()
                .ToDictionary(endpoint => endpoint.RoutePattern.RawText!, StringComparer.Ordinal);
            app.Use((context, nextMiddleware) =>
            {
                if (endpoints.TryGetValue(context.Request.Path.Value ?? "", out var endpoint))
                {
                    context.SetEndpoint(endpoint);
                }
                return nextMiddleware(context);
            });
            next(app);
        };
    }

    private sealed class RouteBuilder(IApplicationBuilder app) : IEndpointRouteBuilder
    {
        public IServiceProvider ServiceProvider => app.ApplicationServices;
        public ICollection<EndpointDataSource> DataSources { get; } = [];
        public IApplicationBuilder CreateApplicationBuilder() => app.New();
    }
}
