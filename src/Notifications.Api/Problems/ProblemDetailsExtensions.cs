using System.Diagnostics;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Notifications.Api.Problems;

/// <summary>Registers the API's RFC 7807 conventions: stable types, a <c>traceId</c> on every problem, no leaked exceptions.</summary>
public static class ProblemDetailsExtensions
{
    public static IServiceCollection AddApiProblemDetails(this IServiceCollection services)
    {
        services.AddProblemDetails(options => options.CustomizeProblemDetails = Customize);
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IProblemDetailsWriter, EventStreamProblemDetailsWriter>());
        services.AddExceptionHandler<ApiExceptionHandler>();
        // Route handlers throw BadHttpRequestException for unreadable bodies and unbindable parameters in every
        // environment (the framework's default does so only in Development and otherwise answers an empty 400), so
        // ApiExceptionHandler can turn them into problem details that name the field.
        services.Configure<RouteHandlerOptions>(options => options.ThrowOnBadRequest = true);
        return services;
    }

    /// <summary>
    /// Adds the exception handler and turns bodiless error responses (unmatched routes, wrong methods, bare
    /// <c>Results.StatusCode</c>) into problem details. Call before authentication so its failures are covered too.
    /// </summary>
    public static IApplicationBuilder UseApiProblemDetails(this IApplicationBuilder app)
    {
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        return app;
    }

    /// <summary>A 400 validation problem with the stable type; <paramref name="errors"/> maps field names to messages.</summary>
    public static ValidationProblem ValidationProblem(IDictionary<string, string[]> errors, string? detail = null) =>
        TypedResults.ValidationProblem(errors, detail, type: ProblemTypes.Validation, title: "The request is not valid.");

    /// <summary>Fills in what every problem the API writes carries, whoever produced it.</summary>
    internal static void Customize(ProblemDetailsContext context)
    {
        var problem = context.ProblemDetails;
        var status = problem.Status ?? context.HttpContext.Response.StatusCode;
        // The framework's default type points at the RFC section of the status code; ours is stable and specific.
        if (problem.Type is null || problem.Type.StartsWith("https://tools.ietf.org/", StringComparison.Ordinal))
        {
            problem.Type = ProblemTypes.ForStatusCode(status) ?? problem.Type;
        }
        problem.Instance ??= context.HttpContext.Request.Path;
        // The W3C trace id is what the trace backend and the structured logs are searched by.
        problem.Extensions["traceId"] = Activity.Current?.TraceId.ToHexString() ?? context.HttpContext.TraceIdentifier;
    }
}
