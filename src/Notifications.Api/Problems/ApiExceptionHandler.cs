using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Mvc;
using Npgsql;

namespace Notifications.Api.Problems;

/// <summary>
/// Turns exceptions that escape an endpoint into problem details: request-binding failures into 400/413/415 naming
/// the field, anything else into a 500 that carries only the trace id (never the exception or its stack trace).
/// </summary>
internal sealed partial class ApiExceptionHandler(IProblemDetailsService problemDetailsService, ILogger<ApiExceptionHandler> logger)
    : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        if (exception is OperationCanceledException && httpContext.RequestAborted.IsCancellationRequested)
        {
            // The client went away: nobody is left to read a response, and it is not a server fault.
            Log.RequestAborted(logger, httpContext.Request.Method, httpContext.Request.Path);
            return true;
        }

        ProblemDetails problem;
        if (exception is BadHttpRequestException badRequest)
        {
            problem = DescribeBadRequest(badRequest);
            Log.BadRequest(logger, badRequest.StatusCode, httpContext.Request.Method, httpContext.Request.Path, problem.Detail);
        }
        else if (exception is NpgsqlException { IsTransient: true } or TimeoutException)
        {
            // The database went away mid-request (restart, failover, a killed connection): the transaction was rolled
            // back, so the client may simply retry — with its Idempotency-Key, a retry can never duplicate.
            Log.DatabaseUnavailable(logger, exception, httpContext.Request.Method, httpContext.Request.Path);
            httpContext.Response.Headers.RetryAfter = "1";
            problem = new ProblemDetails
            {
                Status = StatusCodes.Status503ServiceUnavailable,
                Type = ProblemTypes.ServiceUnavailable,
                Title = "The database is unavailable.",
                Detail = "Nothing was written; retry the request.",
            };
        }
        else
        {
            // .NET 10's exception handler middleware stays silent about exceptions an IExceptionHandler handled.
            Log.UnhandledException(logger, exception, httpContext.Request.Method, httpContext.Request.Path);
            problem = new ProblemDetails
            {
                Status = StatusCodes.Status500InternalServerError,
                Type = ProblemTypes.InternalError,
                Title = "An unexpected error occurred.",
                Detail = "The error was logged; quote the traceId when reporting it.",
            };
        }

        httpContext.Response.StatusCode = problem.Status!.Value;
        return await problemDetailsService.TryWriteAsync(new ProblemDetailsContext { HttpContext = httpContext, ProblemDetails = problem });
    }

    internal static ProblemDetails DescribeBadRequest(BadHttpRequestException exception)
    {
        if (exception.InnerException is JsonException json)
        {
            return DescribeUnreadableJson(json);
        }

        // The framework's messages name the parameter and the problem ("Failed to bind parameter "int limit" from
        // "abc".", "Request body too large. …") and carry no internals, so they are passed on as they are.
        return new ProblemDetails
        {
            Status = exception.StatusCode,
            Type = ProblemTypes.ForStatusCode(exception.StatusCode) ?? ProblemTypes.Validation,
            Title = exception.StatusCode == StatusCodes.Status400BadRequest ? "The request is not valid." : null,
            Detail = exception.Message,
        };
    }

    internal static ProblemDetails DescribeUnreadableJson(JsonException exception)
    {
        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        string detail;
        // A syntax error wraps the reader's exception; a value the target type cannot take does not.
        if (exception.InnerException is not JsonException && FieldName(exception.Path) is { } field)
        {
            // The exception's own message names our CLR types; the client only needs the field.
            errors[field] = ["The value has the wrong type or format."];
            detail = $"The field '{field}' has a value of the wrong type or format.";
        }
        else if (MissingRequiredProperties(exception.Message) is { Count: > 0 } missing)
        {
            foreach (var name in missing)
            {
                errors[name] = ["The field is required."];
            }
            detail = $"Required fields are missing: {string.Join(", ", missing)}.";
        }
        else
        {
            detail = exception.LineNumber is { } line
                ? $"The request body is not valid JSON (line {line + 1}, byte {exception.BytePositionInLine + 1})."
                : "The request body is not valid JSON.";
        }

        var problem = errors.Count > 0 ? new HttpValidationProblemDetails(errors) : new ProblemDetails();
        problem.Status = StatusCodes.Status400BadRequest;
        problem.Type = ProblemTypes.Validation;
        problem.Title = "The request body could not be read.";
        problem.Detail = detail;
        return problem;
    }

    /// <summary><c>$.recipients[2].userId</c> → <c>recipients[2].userId</c>; the root (<c>$</c>) names no field.</summary>
    internal static string? FieldName(string? jsonPath) =>
        jsonPath is null || jsonPath == "$" ? null
        : jsonPath.StartsWith("$.", StringComparison.Ordinal) ? jsonPath[2..]
        : jsonPath.StartsWith('$') ? jsonPath[1..]
        : jsonPath;

    /// <summary>System.Text.Json reports missing <c>required</c> members only in its message: "…missing required properties including: 'a', 'b'."</summary>
    internal static IReadOnlyList<string> MissingRequiredProperties(string message)
    {
        var marker = message.IndexOf("missing required properties", StringComparison.Ordinal);
        return marker < 0 ? [] : [.. QuotedName().Matches(message[marker..]).Select(match => match.Groups[1].Value)];
    }

    [GeneratedRegex("'([^']+)'")]
    private static partial Regex QuotedName();

    private static partial class Log
    {
        [LoggerMessage(EventId = 3901, Level = LogLevel.Error, Message = "Unhandled exception in {Method} {Path}")]
        public static partial void UnhandledException(ILogger logger, Exception exception, string method, string path);

        [LoggerMessage(EventId = 3902, Level = LogLevel.Debug, Message = "Rejected {Method} {Path} with {StatusCode}: {Detail}")]
        public static partial void BadRequest(ILogger logger, int statusCode, string method, string path, string? detail);

        [LoggerMessage(EventId = 3903, Level = LogLevel.Debug, Message = "{Method} {Path} aborted by the client")]
        public static partial void RequestAborted(ILogger logger, string method, string path);

        [LoggerMessage(EventId = 3904, Level = LogLevel.Warning, Message = "{Method} {Path} failed: the database is unavailable")]
        public static partial void DatabaseUnavailable(ILogger logger, Exception exception, string method, string path);
    }
}
