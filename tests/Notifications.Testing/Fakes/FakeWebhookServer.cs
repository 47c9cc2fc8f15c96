using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Notifications.Testing.Fakes;

/// <summary>
/// Slack incoming webhooks and Discord webhooks, as they answer: Slack <c>200 ok</c> (text) and its plain-text errors
/// (<c>400 invalid_payload</c>, <c>404 no_service</c>, <c>500 rollup_error</c>); Discord <c>204</c> and its JSON errors
/// (<c>{"message": …, "code": …}</c>, 429 with <c>retry_after</c>).
/// </summary>
public sealed class FakeWebhookServer : FakeHttpServer
{
    public const string SlackPath = "/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX";
    public const string DiscordPath = "/api/webhooks/123456789012345678/fake-discord-token";

    private volatile int _failWithStatus;

    private FakeWebhookServer()
    {
    }

    public Uri SlackWebhookUrl => new(BaseUrl, SlackPath.TrimStart('/'));

    public Uri DiscordWebhookUrl => new(BaseUrl, DiscordPath.TrimStart('/'));

    /// <summary>The Slack messages accepted or refused, oldest first (their JSON bodies).</summary>
    public IReadOnlyList<JsonElement> SlackMessages => [.. Requests.Where(request => request.Path == SlackPath).Select(request => request.Json)];

    public IReadOnlyList<JsonElement> DiscordMessages => [.. Requests.Where(request => request.Path == DiscordPath).Select(request => request.Json)];

    public static async Task<FakeWebhookServer> StartNewAsync()
    {
        var server = new FakeWebhookServer();
        await server.StartAsync();
        return server;
    }

    /// <summary>From now on both webhooks answer with this error status (400, 404, 429 or 500); 0 makes them accept again.</summary>
    public void FailWith(int statusCode) => _failWithStatus = statusCode;

    protected override void Map(IEndpointRouteBuilder routes)
    {
        routes.MapPost(SlackPath, () => _failWithStatus switch
        {
            0 => Results.Text("ok"),
            400 => Results.Text("invalid_payload", statusCode: 400),
            404 => Results.Text("no_service", statusCode: 404),
            429 => Results.Text("rate_limited", statusCode: 429),
            var status => Results.Text("rollup_error", statusCode: status),
        });
        routes.MapPost(DiscordPath, () => _failWithStatus switch
        {
            0 => Results.NoContent(),
            400 => Results.Json(new { message = "Cannot send an empty message", code = 50006 }, statusCode: 400),
            404 => Results.Json(new { message = "Unknown Webhook", code = 10015 }, statusCode: 404),
            429 => Results.Json(new { message = "You are being rate limited.", retry_after = 0.5, global = false }, statusCode: 429),
            var status => Results.Json(new { message = "500: Internal Server Error", code = 0 }, statusCode: status),
        });
    }
}
