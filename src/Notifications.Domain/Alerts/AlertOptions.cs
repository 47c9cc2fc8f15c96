using Microsoft.Extensions.Options;

namespace Notifications.Domain.Alerts;

/// <summary>Where alerts go (section <c>Alerts</c>). With neither webhook set, alerts are only logged.</summary>
public sealed class AlertOptions
{
    public const string SectionName = "Alerts";

    /// <summary>A Slack incoming-webhook URL (<c>https://hooks.slack.com/services/…</c>). Default: none.</summary>
    public Uri? SlackWebhookUrl { get; set; }

    /// <summary>A Discord webhook URL (<c>https://discord.com/api/webhooks/…</c>). Default: none.</summary>
    public Uri? DiscordWebhookUrl { get; set; }

    /// <summary>The environment named in every alert. Default: the host's environment name.</summary>
    public string? Environment { get; set; }

    /// <summary>How long one webhook post may take. Default 10 seconds.</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(10);
}

internal sealed class AlertOptionsValidator : IValidateOptions<AlertOptions>
{
    public ValidateOptionsResult Validate(string? name, AlertOptions options)
    {
        var failures = new List<string>();
        const string section = AlertOptions.SectionName;
        ValidateUrl(options.SlackWebhookUrl, $"{section}:SlackWebhookUrl", failures);
        ValidateUrl(options.DiscordWebhookUrl, $"{section}:DiscordWebhookUrl", failures);
        if (options.Timeout <= TimeSpan.Zero || options.Timeout > TimeSpan.FromMinutes(1))
        {
            failures.Add($"{section}:Timeout must be more than zero and at most 00:01:00 (was {options.Timeout}).");
        }
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    private static void ValidateUrl(Uri? url, string key, List<string> failures)
    {
        if (url is not null && (!url.IsAbsoluteUri || (url.Scheme != Uri.UriSchemeHttps && url.Scheme != Uri.UriSchemeHttp)))
        {
            failures.Add($"{key} must be an absolute http(s) URL (was '{url}').");
        }
    }
}
