using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Options;
using Notifications.Domain.Messaging;
using Notifications.Domain.Realtime;
using Notifications.EmailWorker.Delivery;
using Polly.Timeout;

namespace Notifications.EmailWorker.InApp;

/// <summary>
/// Publishes an in-app message to Ably's REST API: <c>POST {RestUrl}/channels/{channel}/messages</c> with the whole API key
/// as Basic credentials, answered <c>201</c>. Ably's errors (<c>{"error":{"message","code","statusCode","href"}}</c>) map
/// to results: 429 (its rate limits, e.g. code 42910), 408 and 5xx are transient, honouring <c>Retry-After</c>; any other
/// 4xx (401 bad key, 403 capability, 404, 400) is permanent.
/// </summary>
internal sealed class AblyPublisher(IHttpClientFactory httpClients, IOptions<AblyOptions> options)
{
    public const string Provider = "ably";
    public const string HttpClientName = "ably";

    public bool IsConfigured => options.Value.IsConfigured;

    public async Task<DeliveryResult> PublishAsync(string userId, string messageJson, CancellationToken cancellationToken)
    {
        var settings = options.Value;
        var channel = Uri.EscapeDataString(InAppMessage.AblyChannelName(userId));
        using var request = new HttpRequestMessage(HttpMethod.Post, $"{settings.RestUrl.TrimEnd('/')}/channels/{channel}/messages");
        request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(settings.ApiKey!)));
        // The message object itself is the data (not a string of it), under the event name browsers subscribe to.
        request.Content = new StringContent(
            string.Concat("""{"name":""", JsonSerializer.Serialize(InAppMessage.EventName), ""","data":""", messageJson, "}"),
            Encoding.UTF8,
            "application/json");

        try
        {
            using var response = await httpClients.CreateClient(HttpClientName).SendAsync(request, cancellationToken);
            var body = await response.Content.ReadAsStringAsync(cancellationToken);
            var status = (int)response.StatusCode;
            if (response.IsSuccessStatusCode)
            {
                return new DeliveryResult.Sent(Provider, MessageId(body), status, body);
            }
            var error = DescribeError(status, body);
            return status is 408 or 429 or >= 500
                ? new DeliveryResult.TransientFailure(Provider, error, RetryAfter(response), status, body)
                : new DeliveryResult.PermanentFailure(Provider, error, status, body);
        }
        catch (Exception exception) when (
            exception is HttpRequestException or TimeoutRejectedException
            || (exception is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            return new DeliveryResult.TransientFailure(Provider, $"Ably did not answer: {exception.Message}");
        }
    }

    /// <summary>Ably answers a publish with <c>{"channel": …, "messageId": …}</c>.</summary>
    private static string? MessageId(string body)
    {
        try
        {
            using var document = JsonDocument.Parse(body);
            return document.RootElement.ValueKind == JsonValueKind.Object
                && document.RootElement.TryGetProperty("messageId", out var id) && id.ValueKind == JsonValueKind.String
                ? id.GetString()
                : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static string DescribeError(int status, string body)
    {
        try
        {
            using var document = JsonDocument.Parse(body);
            if (document.RootElement.ValueKind == JsonValueKind.Object
                && document.RootElement.TryGetProperty("error", out var error) && error.ValueKind == JsonValueKind.Object)
            {
                var code = error.TryGetProperty("code", out var codeValue) && codeValue.ValueKind == JsonValueKind.Number ? codeValue.GetRawText() : "?";
                var message = error.TryGetProperty("message", out var messageValue) ? messageValue.GetString() : null;
                return $"Ably refused the message with {status}, error {code}: {message}";
            }
        }
        catch (JsonException)
        {
            // Not Ably's error shape (a proxy's page, say): the status says enough.
        }
        return $"Ably refused the message with {status}.";
    }

    private static TimeSpan? RetryAfter(HttpResponseMessage response) => response.Headers.RetryAfter switch
    {
        { Delta: { } delta } => delta,
        { Date: { } date } => date - DateTimeOffset.UtcNow is var wait && wait > TimeSpan.Zero ? wait : TimeSpan.Zero,
        _ => null,
    };
}
