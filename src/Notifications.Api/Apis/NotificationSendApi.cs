using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using Notifications.Api.Problems;
using Notifications.Api.RateLimiting;
using Notifications.Api.Security;
using Notifications.Api.Sending;

namespace Notifications.Api.Apis;

/// <summary>
/// <c>POST /api/notifications</c> and <c>POST /api/notifications/batch</c>: producers hand notifications over. The
/// answer is <c>202 Accepted</c> once they are durably queued — no provider is waited for. An
/// <c>Idempotency-Key</c> header makes a retry safe: the same key and body replay the first answer
/// (<c>Idempotency-Replay: true</c>), the same key with another body is refused (422), and a repeat while the first is
/// still running is refused (409).
/// </summary>
public static class NotificationSendApi
{
    public static IEndpointRouteBuilder MapNotificationSendApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/notifications")
            .WithTags("Sending")
            .RequireAuthorization(Policies.Producer)
            .RequireProducerRateLimit();

        api.MapPost("", SendNotification)
            .WithName("SendNotification")
            .WithSummary("Notify one user")
            .Accepts<SendNotificationRequest>("application/json")
            .Produces<SendNotificationResponse>(StatusCodes.Status202Accepted);
        api.MapPost("/batch", SendBatch)
            .WithName("SendNotificationBatch")
            .WithSummary("Notify up to 1,000 users, or send up to 1,000 notifications, in one transaction")
            .Accepts<SendBatchRequest>("application/json")
            .Produces<SendBatchResponse>(StatusCodes.Status202Accepted);
        return app;
    }

    internal static Task<Results<JsonBytesResult, ValidationProblem, ProblemHttpResult>> SendNotification(
        HttpContext context, NotificationSender sender, IOptions<SendingOptions> options, CancellationToken cancellationToken) =>
        AcceptAsync(
            context,
            options.Value,
            SendJsonContext.Default.SendNotificationRequest,
            (request, errors) => SendRequestValidator.Validate(request, errors) is { } draft ? [draft] : null,
            (drafts, idempotency, token) => sender.SendOneAsync(drafts[0], idempotency, token),
            cancellationToken);

    internal static Task<Results<JsonBytesResult, ValidationProblem, ProblemHttpResult>> SendBatch(
        HttpContext context, NotificationSender sender, IOptions<SendingOptions> options, CancellationToken cancellationToken) =>
        AcceptAsync(
            context,
            options.Value,
            SendJsonContext.Default.SendBatchRequest,
            SendRequestValidator.Validate,
            sender.SendBatchAsync,
            cancellationToken);

    /// <summary>
    /// What both routes do: read the JSON body (kept as sent, for the idempotency hash), read the Idempotency-Key, validate
    /// into drafts, send, and turn the outcome into HTTP.
    /// </summary>
    private static async Task<Results<JsonBytesResult, ValidationProblem, ProblemHttpResult>> AcceptAsync<TRequest>(
        HttpContext context,
        SendingOptions options,
        JsonTypeInfo<TRequest> requestType,
        Func<TRequest, SendValidationErrors, IReadOnlyList<NotificationDraft>?> validate,
        Func<IReadOnlyList<NotificationDraft>, IdempotencyRequest?, CancellationToken, Task<SendResult>> send,
        CancellationToken cancellationToken)
        where TRequest : class
    {
        var body = await JsonRequestBody.ReadAsync(context.Request, options.MaximumRequestBytes, requestType, cancellationToken);
        if (body.Problem is { } unreadable)
        {
            return unreadable;
        }
        var idempotency = ReadIdempotencyKey(context, body.Bytes);
        if (idempotency.Problem is { } badKey)
        {
            return badKey;
        }

        var errors = new SendValidationErrors();
        var drafts = validate(body.Value!, errors);
        if (drafts is null)
        {
            return InvalidRequest(errors);
        }

        return ToHttpResult(await send(drafts, idempotency.Request, cancellationToken));
    }

    private static Results<JsonBytesResult, ValidationProblem, ProblemHttpResult> ToHttpResult(SendResult result) => result switch
    {
        SendResult.Accepted accepted => new JsonBytesResult(StatusCodes.Status202Accepted, accepted.Json),
        SendResult.Replayed replayed => new JsonBytesResult(replayed.StatusCode, replayed.Json, isReplay: true),
        SendResult.UserNotFound notFound => TypedResults.Problem(
            statusCode: StatusCodes.Status404NotFound,
            title: "User not found.",
            detail: $"There is no registered user '{notFound.UserId}'; register recipients with PUT /api/users/{{id}}.",
            extensions: new Dictionary<string, object?> { ["userId"] = notFound.UserId }),
        SendResult.KeyInFlight => TypedResults.Problem(
            statusCode: StatusCodes.Status409Conflict,
            type: ProblemTypes.IdempotencyInFlight,
            title: "A request with this Idempotency-Key is still being processed.",
            detail: "Retry once it has completed to receive its response."),
        SendResult.KeyReusedForAnotherRequest => TypedResults.Problem(
            statusCode: StatusCodes.Status422UnprocessableEntity,
            type: ProblemTypes.IdempotencyConflict,
            title: "This Idempotency-Key was used for a different request.",
            detail: "Use a new key for a new request; a key can only replay the request it was first sent with."),
        _ => throw new InvalidOperationException($"Unhandled send result {result.GetType().Name}."),
    };

    /// <summary>400 naming the fields; 413 when the only problem is a payload field over its size limit.</summary>
    private static Results<JsonBytesResult, ValidationProblem, ProblemHttpResult> InvalidRequest(SendValidationErrors errors)
    {
        if (!errors.AllTooLarge)
        {
            return ProblemDetailsExtensions.ValidationProblem(errors.ToDictionary());
        }
        return TypedResults.Problem(
            statusCode: StatusCodes.Status413PayloadTooLarge,
            type: ProblemTypes.PayloadTooLarge,
            title: "A field is larger than allowed.",
            detail: "See 'errors' for the fields and their limits.",
            extensions: new Dictionary<string, object?> { ["errors"] = errors.ToDictionary() });
    }

    private readonly record struct IdempotencyKeyHeader(IdempotencyRequest? Request, ProblemHttpResult? Problem);

    private static IdempotencyKeyHeader ReadIdempotencyKey(HttpContext context, ReadOnlyMemory<byte> body)
    {
        if (!context.Request.Headers.TryGetValue(IdempotencyRequest.HeaderName, out var values))
        {
            return default;
        }
        var key = values.Count == 1 ? values[0] : null;
        if (key is null || !IdempotencyRequest.IsValidKey(key))
        {
            return new(null, TypedResults.Problem(
                statusCode: StatusCodes.Status400BadRequest,
                type: ProblemTypes.Validation,
                title: "The request is not valid.",
                detail: $"The {IdempotencyRequest.HeaderName} header must be one value of 1 to {IdempotencyRequest.MaximumKeyLength} visible ASCII characters.",
                extensions: new Dictionary<string, object?>
                {
                    ["errors"] = new Dictionary<string, string[]> { [IdempotencyRequest.HeaderName] = ["Must be 1 to 255 visible ASCII characters."] },
                }));
        }
        var scope = context.User.FindUserId() ?? "";
        return new(new IdempotencyRequest(scope, key, IdempotencyRequest.Hash(context.Request.Path, body.Span)), null);
    }
}

/// <summary>A JSON body already serialized (the send path stores it for idempotent replays), written as is.</summary>
public sealed class JsonBytesResult(int statusCode, byte[] json, bool isReplay = false) : IResult, IStatusCodeHttpResult
{
    public int? StatusCode => statusCode;

    public async Task ExecuteAsync(HttpContext httpContext)
    {
        httpContext.Response.StatusCode = statusCode;
        httpContext.Response.ContentType = "application/json; charset=utf-8";
        httpContext.Response.ContentLength = json.Length;
        if (isReplay)
        {
            httpContext.Response.Headers[IdempotencyRequest.ReplayHeaderName] = "true";
        }
        await httpContext.Response.Body.WriteAsync(json, httpContext.RequestAborted);
    }
}

/// <summary>
/// Reads a JSON request body with a size limit, keeping its bytes (the idempotency hash covers exactly what was sent),
/// and answers 415 for another media type, 413 past the limit and 400 naming the field for JSON that does not fit.
/// </summary>
internal static class JsonRequestBody
{
    public readonly record struct Body<T>(T? Value, ReadOnlyMemory<byte> Bytes, ProblemHttpResult? Problem);

    public static async Task<Body<T>> ReadAsync<T>(HttpRequest request, int maximumBytes, JsonTypeInfo<T> typeInfo, CancellationToken cancellationToken)
        where T : class
    {
        if (!request.HasJsonContentType())
        {
            return new(null, default, TypedResults.Problem(
                statusCode: StatusCodes.Status415UnsupportedMediaType,
                title: "The request body must be JSON.",
                detail: "Send Content-Type: application/json."));
        }
        if (request.ContentLength > maximumBytes)
        {
            return new(null, default, TooLarge(maximumBytes));
        }

        using var buffer = new MemoryStream(request.ContentLength is { } length ? (int)length : 4096);
        var chunk = new byte[16 * 1024];
        int read;
        while ((read = await request.Body.ReadAsync(chunk, cancellationToken)) > 0)
        {
            if (buffer.Length + read > maximumBytes)
            {
                return new(null, default, TooLarge(maximumBytes));
            }
            buffer.Write(chunk, 0, read);
        }

        var bytes = new ReadOnlyMemory<byte>(buffer.GetBuffer(), 0, (int)buffer.Length);
        T? value;
        try
        {
            value = JsonSerializer.Deserialize(bytes.Span, typeInfo);
        }
        catch (JsonException exception)
        {
            var problem = ApiExceptionHandler.DescribeUnreadableJson(exception);
            return new(null, bytes, TypedResults.Problem(problem));
        }
        return value is null
            ? new(null, bytes, TypedResults.Problem(
                statusCode: StatusCodes.Status400BadRequest,
                type: ProblemTypes.Validation,
                title: "The request body could not be read.",
                detail: "The request body must be a JSON object."))
            : new(value, bytes, null);
    }

    private static ProblemHttpResult TooLarge(int maximumBytes) => TypedResults.Problem(
        statusCode: StatusCodes.Status413PayloadTooLarge,
        type: ProblemTypes.PayloadTooLarge,
        title: "The request body is too large.",
        detail: $"Request bodies are limited to {maximumBytes} bytes.");
}
