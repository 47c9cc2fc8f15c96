using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Notifications.Domain.Alerts;

/// <summary>
/// Posts alerts to a Slack incoming webhook (a message with a coloured attachment) and a Discord webhook (a coloured
/// embed), whichever are configured, side by side.
/// </summary>
internal sealed partial class WebhookAlertSender(
    HttpClient http,
    IOptions<AlertOptions> options,
    ILogger<WebhookAlertSender> logger) : IAlertSender
{
    private const string Footer = "Notifications";

    // Discord's documented limits; Slack's are higher.
    private const int MaximumTitleLength = 256;
    private const int MaximumTextLength = 4096;
    private const int MaximumFieldValueLength = 1024;
    private const int MaximumFields = 25;
    private const int MaximumLoggedResponseLength = 500;

    public async Task<int> SendAsync(Alert alert, CancellationToken cancellationToken)
    {
        var settings = options.Value;
        var environment = settings.Environment ?? "unknown";
        var posts = new List<Task<bool>>(2);
        if (settings.SlackWebhookUrl is { } slack)
        {
            posts.Add(PostAsync("slack", slack, SlackMessage(alert, environment), settings.Timeout, cancellationToken));
        }
        if (settings.DiscordWebhookUrl is { } discord)
        {
            posts.Add(PostAsync("discord", discord, DiscordMessage(alert, environment), settings.Timeout, cancellationToken));
        }
        if (posts.Count == 0)
        {
            Log.NoWebhook(logger, alert.Title);
            return 0;
        }
        var accepted = await Task.WhenAll(posts);
        return accepted.Count(ok => ok);
    }

    private async Task<bool> PostAsync(string webhook, Uri url, JsonObject message, TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var timeoutSource = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeoutSource.CancelAfter(timeout);
        try
        {
            using var response = await http.PostAsJsonAsync(url, message, timeoutSource.Token);
            if (response.IsSuccessStatusCode)
            {
                Log.Posted(logger, webhook);
                return true;
            }
            var body = await response.Content.ReadAsStringAsync(timeoutSource.Token);
            Log.Refused(logger, webhook, (int)response.StatusCode, Truncate(body, MaximumLoggedResponseLength));
            return false;
        }
        catch (Exception exception) when (!cancellationToken.IsCancellationRequested)
        {
            Log.Failed(logger, webhook, exception);
            return false;
        }
    }

    internal static JsonObject SlackMessage(Alert alert, string environment)
    {
        var fields = new JsonArray();
        foreach (var field in FieldsWithEnvironment(alert, environment))
        {
            fields.Add(new JsonObject { ["title"] = field.Name, ["value"] = field.Value, ["short"] = true });
        }
        return new JsonObject
        {
            // The top-level text is what notifications and screen readers show.
            ["text"] = $"{SeverityMark(alert.Severity)} {alert.Title}",
            ["attachments"] = new JsonArray(new JsonObject
            {
                ["color"] = $"#{Colour(alert.Severity):X6}",
                ["title"] = Truncate(alert.Title, MaximumTitleLength),
                ["text"] = Truncate(alert.Text, MaximumTextLength),
                ["fields"] = fields,
                ["footer"] = Footer,
                ["ts"] = alert.Timestamp.ToUnixTimeSeconds(),
            }),
        };
    }

    internal static JsonObject DiscordMessage(Alert alert, string environment)
    {
        var fields = new JsonArray();
        foreach (var field in FieldsWithEnvironment(alert, environment))
        {
            fields.Add(new JsonObject { ["name"] = field.Name, ["value"] = field.Value, ["inline"] = true });
        }
        return new JsonObject
        {
            ["embeds"] = new JsonArray(new JsonObject
            {
                ["title"] = Truncate($"{SeverityMark(alert.Severity)} {alert.Title}", MaximumTitleLength),
                ["description"] = Truncate(alert.Text, MaximumTextLength),
                ["color"] = Colour(alert.Severity),
                ["fields"] = fields,
                ["timestamp"] = alert.Timestamp.ToUniversalTime().ToString("O", CultureInfo.InvariantCulture),
                ["footer"] = new JsonObject { ["text"] = Footer },
            }),
        };
    }

    private static IEnumerable<AlertField> FieldsWithEnvironment(Alert alert, string environment) =>
        alert.Fields
            .Prepend(new AlertField("Severity", alert.Severity.ToString()))
            .Prepend(new AlertField("Environment", environment))
            .Take(MaximumFields)
            // Discord refuses empty field values.
            .Select(field => field with { Value = field.Value.Length == 0 ? "—" : Truncate(field.Value, MaximumFieldValueLength) });

    /// <summary>Green, orange, orange-red, crimson.</summary>
    internal static int Colour(AlertSeverity severity) => severity switch
    {
        AlertSeverity.Info => 0x2EB67D,
        AlertSeverity.Warning => 0xFFA500,
        AlertSeverity.Error => 0xFF4500,
        _ => 0xDC143C,
    };

    private static string SeverityMark(AlertSeverity severity) => severity switch
    {
        AlertSeverity.Info => "ℹ️",
        AlertSeverity.Warning => "⚠️",
        AlertSeverity.Error => "🚨",
        _ => "🔴",
    };

    private static string Truncate(string text, int length) => text.Length <= length ? text : string.Concat(text.AsSpan(0, length - 1), "…");

    private static partial class Log
    {
        [LoggerMessage(EventId = 2001, Level = LogLevel.Information, Message = "Alert posted to {Webhook}")]
        public static partial void Posted(ILogger logger, string webhook);

        [LoggerMessage(EventId = 2002, Level = LogLevel.Warning, Message = "The {Webhook} webhook refused an alert with {StatusCode}: {Response}")]
        public static partial void Refused(ILogger logger, string webhook, int statusCode, string response);

        [LoggerMessage(EventId = 2003, Level = LogLevel.Warning, Message = "Could not post an alert to the {Webhook} webhook")]
        public static partial void Failed(ILogger logger, string webhook, Exception exception);

        [LoggerMessage(EventId = 2004, Level = LogLevel.Warning, Message = "Alert (no Slack or Discord webhook configured): {Title}")]
        public static partial void NoWebhook(ILogger logger, string title);
    }
}
