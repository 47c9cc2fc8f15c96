using System.Collections.Concurrent;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Notifications.Testing.Fakes;

/// <summary>A message the fake accepted: the channel it was published on, its name, and its data.</summary>
public sealed record AblyPublishedMessage(string Channel, string Name, JsonElement Data);

/// <summary>
/// Ably's REST publish endpoint, <c>POST /channels/{channel}/messages</c>, as it answers: <c>201</c> with
/// <c>{"channel", "messageId"}</c>; its errors as <c>{"error": {"message", "code", "statusCode", "href"}}</c>: 401/40101
/// for missing or wrong Basic credentials, 400/40000 for a body that is not a message, and whatever a test asks for with
/// <see cref="FailWith"/> (429/42910 with <c>Retry-After</c>, 500/50000, 403/40160, 404/40400).
/// </summary>
public sealed class FakeAblyServer : FakeHttpServer
{
    /// <summary>A key of Ably's shape, <c>appId.keyId:keySecret</c>.</summary>
    public const string DefaultApiKey = "fakeapp.fakekey:fake-key-secret";

    private readonly string _apiKey;
    private readonly ConcurrentQueue<AblyPublishedMessage> _published = new();
    private volatile int _failWithStatus;
    private volatile string? _retryAfter;
    private int _serial;

    private FakeAblyServer(string apiKey) => _apiKey = apiKey;

    public IReadOnlyList<AblyPublishedMessage> Published => [.. _published];

    public static async Task<FakeAblyServer> StartNewAsync(string apiKey = DefaultApiKey)
    {
        var server = new FakeAblyServer(apiKey);
        await server.StartAsync();
        return server;
    }

    /// <summary>
    /// From now on publishes are refused with this status (429, 500, 401, 403, 404, 400), with <c>Retry-After</c> when
    /// given; 0 makes the fake accept again.
    /// </summary>
    public void FailWith(int statusCode, TimeSpan? retryAfter = null)
    {
        _retryAfter = retryAfter is { } delay ? ((int)delay.TotalSeconds).ToString(System.Globalization.CultureInfo.InvariantCulture) : null;
        _failWithStatus = statusCode;
    }

    protected override void Map(IEndpointRouteBuilder routes) =>
        routes.MapPost("/channels/{channel}/messages", async (HttpContext context, string channel) =>
        {
            var expected = "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes(_apiKey));
            if (context.Request.Headers.Authorization.ToString() != expected)
            {
                return Error(401, 40101, "Invalid credentials; key not found or secret mismatch");
            }
            if (_failWithStatus is var status and not 0)
            {
                if (_retryAfter is { } retryAfter)
                {
                    context.Response.Headers.RetryAfter = retryAfter;
                }
                return status switch
                {
                    429 => Error(429, 42910, "Rate limit exceeded; request rejected (nonfatal); metric = channel.maxRate; interval = 1 s"),
                    401 => Error(401, 40101, "Invalid credentials"),
                    403 => Error(403, 40160, "Action not permitted; capability does not allow publish"),
                    404 => Error(404, 40400, "Not found"),
                    400 => Error(400, 40000, "Bad request"),
                    _ => Error(status, 50000, "Internal error"),
                };
            }

            using var reader = new StreamReader(context.Request.Body);
            JsonElement body;
            try
            {
                body = JsonDocument.Parse(await reader.ReadToEndAsync(context.RequestAborted)).RootElement.Clone();
            }
            catch (JsonException)
            {
                return Error(400, 40000, "Unable to parse request body");
            }
            if (body.ValueKind != JsonValueKind.Object
                || !body.TryGetProperty("name", out var name) || name.ValueKind != JsonValueKind.String
                || !body.TryGetProperty("data", out var data))
            {
                return Error(400, 40000, "Invalid message: expected an object with name and data");
            }
            _published.Enqueue(new AblyPublishedMessage(channel, name.GetString()!, data));
            return Results.Json(new { channel, messageId = $"fake-{Interlocked.Increment(ref _serial)}:0" }, statusCode: 201);
        });

    private static IResult Error(int statusCode, int code, string message) =>
        Results.Json(new { error = new { message, code, statusCode, href = $"https://help.ably.io/error/{code}" } }, statusCode: statusCode);
}
