using Microsoft.AspNetCore.Http.Json;
using Microsoft.Extensions.Options;

namespace Notifications.Api.Problems;

/// <summary>
/// Writes problem details to clients that accept only <c>text/event-stream</c> (a browser's EventSource, <c>curl -H
/// 'Accept: text/event-stream'</c>). The framework's writer serves only JSON-accepting clients and would leave a 401 or
/// 400 on the event stream without a body; errors are problem details whatever the client hoped to receive.
/// </summary>
internal sealed class EventStreamProblemDetailsWriter(IOptions<ProblemDetailsOptions> problemDetailsOptions, IOptions<JsonOptions> jsonOptions)
    : IProblemDetailsWriter
{
    public bool CanWrite(ProblemDetailsContext context) =>
        context.HttpContext.Request.Headers.Accept.Any(accept => accept?.Contains("text/event-stream", StringComparison.OrdinalIgnoreCase) == true);

    public ValueTask WriteAsync(ProblemDetailsContext context)
    {
        var problem = context.ProblemDetails;
        problem.Status ??= context.HttpContext.Response.StatusCode;
        problemDetailsOptions.Value.CustomizeProblemDetails?.Invoke(context);
        return new ValueTask(context.HttpContext.Response.WriteAsJsonAsync(
            problem, problem.GetType(), jsonOptions.Value.SerializerOptions, "application/problem+json", context.HttpContext.RequestAborted));
    }
}
