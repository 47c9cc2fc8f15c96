using System.Net;
using System.Net.Http.Headers;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.Extensions.Options;
using Notifications.Domain.Quota;
using Notifications.EmailWorker.Delivery;

namespace Notifications.EmailWorker.Email.Providers;

/// <summary>
/// Sends through Resend's REST API: <c>POST /emails</c> with the job id as <c>Idempotency-Key</c> (Resend keeps keys
/// for 24 hours, so a redelivered job is answered with the first email's id instead of a second email). Resend's
/// error names decide what a refusal means. The HTTP client has no resilience handler: retrying is the consumer's job,
/// with back-off, and the sender bounds each call by <c>Email:Resend:Timeout</c>.
/// </summary>
internal sealed class ResendEmailSender(
    IHttpClientFactory httpClientFactory,
    IOptions<EmailOptions> options,
    TimeProvider timeProvider) : IEmailSender
{
    public const string HttpClientName = "resend";

    /// <summary>
    /// The request's serializer. Its encoder leaves HTML's &lt; &gt; &amp; ' as they are instead of as \u003C and the like:
    /// the body is read by Resend's JSON parser, never placed in a page, and escaping every tag of an email's HTML was
    /// most of the cost of serializing it. Quotes, backslashes and control characters are still escaped, as JSON needs.
    /// </summary>
    private static readonly ResendJsonContext RequestJson = new(new JsonSerializerOptions(JsonSerializerDefaults.Web)
    {
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    });

    private readonly TimeSpan _timeout = options.Value.Resend.Timeout;

    // Set on each request rather than as the client's default header: copying default headers into every request takes
    // a lock per header that concurrent sends contend on.
    private readonly string _authorization = $"Bearer {options.Value.Resend.ApiKey}";

    public string Name => EmailOptions.ResendProvider;

    public async Task<DeliveryResult> SendAsync(EmailMessage message, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_timeout);
        try
        {
            var http = httpClientFactory.CreateClient(HttpClientName);
            // Serialized up front rather than streamed (JsonContent): with its length known the request goes out in one
            // write instead of chunk after chunk.
            var content = new ByteArrayContent(JsonSerializer.SerializeToUtf8Bytes(Request(message), RequestJson.ResendEmailRequest));
            content.Headers.ContentType = new MediaTypeHeaderValue("application/json", "utf-8");
            using var request = new HttpRequestMessage(HttpMethod.Post, "emails") { Content = content };
            request.Headers.TryAddWithoutValidation("Authorization", _authorization);
            request.Headers.Add("Idempotency-Key", message.IdempotencyKey);
            using var response = await http.SendAsync(request, timeout.Token);
            var body = await response.Content.ReadAsStringAsync(timeout.Token);
            return ResendResponses.Classify(response.StatusCode, body, response.Headers.RetryAfter, timeProvider.GetUtcNow());
        }
        catch (Exception exception) when (!cancellationToken.IsCancellationRequested)
        {
            // Our own timeout, a refused connection, a reset.
            var timedOut = timeout.IsCancellationRequested;
            return new DeliveryResult.TransientFailure(
                Name,
                timedOut ? $"Resend did not answer within {_timeout.TotalSeconds:0.###} s" : $"Resend could not be reached: {exception.Message}");
        }
    }

    private static ResendEmailRequest Request(EmailMessage message)
    {
        var headers = new Dictionary<string, string>(message.Headers.Count, StringComparer.Ordinal);
        foreach (var (name, value) in message.Headers)
        {
            headers[name] = value;
        }
        return new ResendEmailRequest(
            message.From,
            [message.To],
            message.Subject,
            message.Html,
            message.Text,
            headers,
            [new ResendTag("type", ResendResponses.TagValue(message.Type))]);
    }
}

/// <summary>What Resend's answers mean for a delivery.</summary>
internal static class ResendResponses
{
    public const int MaximumExcerptLength = 500;

    /// <summary>
    /// 200 → sent; 429 <c>daily_quota_exceeded</c>/<c>monthly_quota_exceeded</c> → the provider's quota is spent until the
    /// next UTC midnight / first of next month; other 429s (<c>rate_limit_exceeded</c>), 408, 5xx and 409
    /// <c>concurrent_idempotent_requests</c> (the same key still in flight) → transient, after <c>Retry-After</c> when
    /// given; every other 4xx (validation, authentication, 409 <c>invalid_idempotent_request</c>) → permanent.
    /// </summary>
    public static DeliveryResult Classify(HttpStatusCode status, string body, RetryConditionHeaderValue? retryAfter, DateTimeOffset now)
    {
        const string provider = EmailOptions.ResendProvider;
        var code = (int)status;
        var excerpt = Excerpt(body);
        var (name, message) = ReadError(body);
        var error = name is null ? $"Resend answered {code}" : $"Resend answered {code} {name}: {message}";

        if (status is HttpStatusCode.OK or HttpStatusCode.Created or HttpStatusCode.Accepted)
        {
            return ReadId(body) is { } id
                ? new DeliveryResult.Sent(provider, id, code, excerpt)
                // Accepted without an id we can read: it went out, so it must not be sent again.
                : new DeliveryResult.Sent(provider, null, code, excerpt);
        }
        if (status == HttpStatusCode.TooManyRequests)
        {
            return name switch
            {
                "daily_quota_exceeded" => new DeliveryResult.QuotaExceeded(provider, EmailQuotaCalendar.NextDay(now), error, code, excerpt),
                "monthly_quota_exceeded" => new DeliveryResult.QuotaExceeded(provider, EmailQuotaCalendar.NextMonth(now), error, code, excerpt),
                _ => new DeliveryResult.TransientFailure(provider, error, RetryAfter(retryAfter, now), code, excerpt),
            };
        }
        if (code >= 500 || status == HttpStatusCode.RequestTimeout
            || (status == HttpStatusCode.Conflict && name == "concurrent_idempotent_requests"))
        {
            return new DeliveryResult.TransientFailure(provider, error, RetryAfter(retryAfter, now), code, excerpt);
        }
        return new DeliveryResult.PermanentFailure(provider, error, code, excerpt);
    }

    /// <summary>Resend's tag values allow only ASCII letters, digits, underscores and dashes.</summary>
    public static string TagValue(string value)
    {
        var characters = value.Length <= 256 ? value.ToCharArray() : value[..256].ToCharArray();
        for (var i = 0; i < characters.Length; i++)
        {
            if (!(char.IsAsciiLetterOrDigit(characters[i]) || characters[i] is '_' or '-'))
            {
                characters[i] = '_';
            }
        }
        return new string(characters);
    }

    private static TimeSpan? RetryAfter(RetryConditionHeaderValue? retryAfter, DateTimeOffset now) => retryAfter switch
    {
        { Delta: { } delta } => delta,
        { Date: { } date } when date > now => date - now,
        _ => null,
    };

    private static string? Excerpt(string body) =>
        body.Length == 0 ? null : body.Length <= MaximumExcerptLength ? body : string.Concat(body.AsSpan(0, MaximumExcerptLength - 1), "…");

    private static (string? Name, string? Message) ReadError(string body)
    {
        try
        {
            var error = JsonSerializer.Deserialize(body, ResendJsonContext.Default.ResendError);
            return (error?.Name, error?.Message);
        }
        catch (JsonException)
        {
            return (null, null);
        }
    }

    private static string? ReadId(string body)
    {
        try
        {
            return JsonSerializer.Deserialize(body, ResendJsonContext.Default.ResendEmailResponse)?.Id;
        }
        catch (JsonException)
        {
            return null;
        }
    }
}

internal sealed record ResendEmailRequest(
    string From,
    string[] To,
    string Subject,
    string Html,
    string Text,
    Dictionary<string, string> Headers,
    ResendTag[] Tags);

internal sealed record ResendTag(string Name, string Value);

internal sealed record ResendEmailResponse(string? Id);

internal sealed record ResendError(int? StatusCode, string? Message, string? Name);

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(ResendEmailRequest))]
[JsonSerializable(typeof(ResendEmailResponse))]
[JsonSerializable(typeof(ResendError))]
internal sealed partial class ResendJsonContext : JsonSerializerContext;
