using System.Text.RegularExpressions;
using Microsoft.Extensions.Options;

namespace Notifications.Domain.Realtime;

/// <summary>
/// Ably, the optional hosted real-time transport (section <c>Ably</c>). Without an API key the in-app inbox is pushed
/// over the API's Server-Sent Events only; with one, the worker also publishes each in-app message to Ably's REST API.
/// </summary>
public sealed class AblyOptions
{
    public const string SectionName = "Ably";

    /// <summary>The whole API key, <c>appId.keyId:keySecret</c>, as Ably's dashboard shows it. Default: none (Ably off).</summary>
    public string? ApiKey { get; set; }

    /// <summary>Ably's REST endpoint. Default <c>https://rest.ably.io</c>.</summary>
    public Uri RestUrl { get; set; } = new("https://rest.ably.io");

    /// <summary>Whether an API key is set, i.e. whether Ably is used at all.</summary>
    public bool IsConfigured => !string.IsNullOrWhiteSpace(ApiKey);
}

public sealed partial class AblyOptionsValidator : IValidateOptions<AblyOptions>
{
    public ValidateOptionsResult Validate(string? name, AblyOptions options)
    {
        var failures = new List<string>();
        const string section = AblyOptions.SectionName;
        // Only the shape is checked, never the secret itself, so the key never appears in a message.
        if (options.IsConfigured && !ApiKeyShape().IsMatch(options.ApiKey!))
        {
            failures.Add($"{section}:ApiKey must have the form appId.keyId:keySecret, as Ably's dashboard shows it.");
        }
        if (options.RestUrl is null || !options.RestUrl.IsAbsoluteUri
            || (options.RestUrl.Scheme != Uri.UriSchemeHttps && options.RestUrl.Scheme != Uri.UriSchemeHttp))
        {
            failures.Add($"{section}:RestUrl must be an absolute http(s) URL (was '{options.RestUrl}').");
        }
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    [GeneratedRegex(@"^[^.:\s]+\.[^.:\s]+:\S+$")]
    private static partial Regex ApiKeyShape();
}
