using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Notifications.Testing.Fakes;

/// <summary>An email Resend accepted (and would deliver): one per accepted request, a replayed idempotent request adds none.</summary>
public sealed record ResendEmail(string Id, string? IdempotencyKey, JsonElement Request);

/// <summary>A refusal the fake answers with: Resend's status code, error name and message, and a Retry-After if any.</summary>
public sealed record ResendFailure(int StatusCode, string Name, string Message, int? RetryAfterSeconds = null)
{
    public static ResendFailure RateLimited(int retryAfterSeconds) =>
        new(429, "rate_limit_exceeded", "Too many requests. You can only make 2 requests per second.", retryAfterSeconds);

    public static readonly ResendFailure DailyQuotaExceeded = new(429, "daily_quota_exceeded", "You have reached your daily email sending quota.");

    public static readonly ResendFailure MonthlyQuotaExceeded = new(429, "monthly_quota_exceeded", "You have reached your monthly email sending quota.");

    public static readonly ResendFailure InternalServerError = new(500, "internal_server_error", "An unexpected error occurred.");

    public static readonly ResendFailure ValidationError = new(422, "validation_error", "Invalid `to` field. The email address needs to follow the `email@example.com` or `Name <email@example.com>` format.");

    public static readonly ResendFailure ConcurrentIdempotentRequests =
        new(409, "concurrent_idempotent_requests", "Same idempotency key used while original request is still in progress.");
}

/// <summary>
/// Resend's <c>POST /emails</c> as it behaves: bearer API key (401 <c>missing_api_key</c>, 403 <c>invalid_api_key</c>),
/// required fields (422 <c>missing_required_field</c>), and idempotency keys kept 24 hours — the same key with the same
/// body answers the first email's id without a second email, with another body 409 <c>invalid_idempotent_request</c>,
/// while the first is still in progress 409 <c>concurrent_idempotent_requests</c>. Failures can be scripted for the
/// next requests (<see cref="FailNext"/>), and every answer delayed (<see cref="ResponseDelay"/>).
/// </summary>
public sealed class FakeResendServer : FakeHttpServer
{
    public const string ApiKey = "re_fake_0123456789abcdef";
    public const string EmailsPath = "/emails";

    private static readonly TimeSpan IdempotencyWindow = TimeSpan.FromHours(24);

    private readonly ConcurrentQueue<ResendFailure> _failures = new();
    private readonly ConcurrentQueue<ResendEmail> _emails = new();
    private readonly ConcurrentDictionary<string, IdempotentRequest> _keys = new(StringComparer.Ordinal);

    private FakeResendServer()
    {
    }

    /// <summary>How long each answer takes. Default none.</summary>
    public TimeSpan ResponseDelay { get; set; }

    /// <summary>Every email accepted, oldest first.</summary>
    public IReadOnlyList<ResendEmail> Emails => [.. _emails];

    public static async Task<FakeResendServer> StartNewAsync()
    {
        var server = new FakeResendServer();
        await server.StartAsync();
        return server;
    }

    /// <summary>How many emails were accepted for one idempotency key (1 however often it was repeated).</summary>
    public int AcceptedCount(string idempotencyKey) => _emails.Count(email => email.IdempotencyKey == idempotencyKey);

    /// <summary>The next <paramref name="count"/> requests (after authentication) are refused with <paramref name="failure"/>.</summary>
    public void FailNext(int count, ResendFailure failure)
    {
        for (var i = 0; i < count; i++)
        {
            _failures.Enqueue(failure);
        }
    }

    protected override void Map(IEndpointRouteBuilder routes) => routes.MapPost(EmailsPath, (Func<HttpContext, Task<IResult>>)SendAsync);

    private async Task<IResult> SendAsync(HttpContext context)
    {
        var authorization = context.Request.Headers.Authorization.ToString();
        if (!authorization.StartsWith("Bearer ", StringComparison.Ordinal))
        {
            return Error(context, new ResendFailure(401, "missing_api_key", "Missing API key in the authorization header. Include the following header in the request: Authorization: Bearer YOUR_API_KEY"));
        }
        if (authorization["Bearer ".Length..] != ApiKey)
        {
            return Error(context, new ResendFailure(403, "invalid_api_key", "API key is invalid"));
        }
        if (_failures.TryDequeue(out var failure))
        {
            return Error(context, failure);
        }

        using var reader = new StreamReader(context.Request.Body);
        var body = await reader.ReadToEndAsync(context.RequestAborted);
        JsonElement request;
        try
        {
            request = JsonDocument.Parse(body).RootElement.Clone();
        }
        catch (JsonException)
        {
            return Error(context, new ResendFailure(422, "validation_error", "The request body is not valid JSON."));
        }
        foreach (var field in new[] { "from", "to", "subject" })
        {
            if (request.ValueKind != JsonValueKind.Object || !request.TryGetProperty(field, out var value) || value.ValueKind == JsonValueKind.Null)
            {
                return Error(context, new ResendFailure(422, "missing_required_field", $"Missing `{field}` field."));
            }
        }

        var key = context.Request.Headers["Idempotency-Key"].ToString();
        if (key.Length == 0)
        {
            await DelayAsync(context);
            return Accept(null, request, out _);
        }
        if (key.Length > 256)
        {
            return Error(context, new ResendFailure(400, "invalid_idempotency_key", "The key must be between 1-256 chars."));
        }

        var hash = Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(body)));
        var now = DateTimeOffset.UtcNow;
        var claim = new IdempotentRequest(hash, now, null);
        while (true)
        {
            var existing = _keys.GetOrAdd(key, claim);
            if (ReferenceEquals(existing, claim))
            {
                break;
            }
            if (now - existing.ReceivedAt >= IdempotencyWindow)
            {
                if (_keys.TryUpdate(key, claim, existing))
                {
                    break;
                }
                continue;
            }
            if (existing.Hash != hash)
            {
                return Error(context, new ResendFailure(409, "invalid_idempotent_request", "Same idempotency key used with a different request payload. Change your idempotency key or payload."));
            }
            return existing.EmailId is { } id
                ? Results.Json(new { id })
                : Error(context, ResendFailure.ConcurrentIdempotentRequests);
        }
        try
        {
            // While this request is in progress, the same key answers 409 concurrent_idempotent_requests.
            await DelayAsync(context);
        }
        catch (OperationCanceledException)
        {
            _keys.TryRemove(new KeyValuePair<string, IdempotentRequest>(key, claim));
            throw;
        }
        var result = Accept(key, request, out var emailId);
        _keys[key] = claim with { EmailId = emailId };
        return result;
    }

    private Task DelayAsync(HttpContext context) =>
        ResponseDelay > TimeSpan.Zero ? Task.Delay(ResponseDelay, context.RequestAborted) : Task.CompletedTask;

    private IResult Accept(string? key, JsonElement request, out string id)
    {
        id = Guid.NewGuid().ToString("D");
        _emails.Enqueue(new ResendEmail(id, key, request));
        return Results.Json(new { id });
    }

    private static IResult Error(HttpContext context, ResendFailure failure)
    {
        if (failure.RetryAfterSeconds is { } seconds)
        {
            context.Response.Headers.RetryAfter = seconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }
        return Results.Json(new { statusCode = failure.StatusCode, message = failure.Message, name = failure.Name }, statusCode: failure.StatusCode);
    }

    private sealed record IdempotentRequest(string Hash, DateTimeOffset ReceivedAt, string? EmailId);
}
