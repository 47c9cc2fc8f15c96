using System.Text.RegularExpressions;
using Microsoft.Extensions.Options;

namespace Notifications.Domain.Realtime;

/// <summary>
/// Ably, the optional hosted real-time channel (section <c>Ably</c>): the worker publishes in-app messages with this key,
/// and the API signs token requests with it so a browser can subscribe to its own channel. Unset <see cref="ApiKey"/>
/// means Ably is off and Server-Sent Events are the only real-time path.
/// </summary>
public sealed partial class AblyOptions
{
    public const string SectionName = "Ably";

    public const string DefaultRestUrl = "https://rest.ably.io";

    /// <summary>Ably caps a token's lifetime at one day.</summary>
    public static readonly TimeSpan MaximumTokenTtl = TimeSpan.FromDays(1);

    /// <summary><c>appId.keyId:secret</c>, as Ably's dashboard shows it. Default none (Ably off).</summary>
    public string? ApiKey { get; set; }

    /// <summary>Base URL of Ably's REST API. Default <c>https://rest.ably.io</c>.</summary>
    public string RestUrl { get; set; } = DefaultRestUrl;

    /// <summary>Lifetime of the tokens a signed token request yields. Default 1 hour.</summary>
    public TimeSpan TokenTtl { get; set; } = TimeSpan.FromHours(1);

    public bool IsConfigured => !string.IsNullOrWhiteSpace(ApiKey);

    /// <summary>The key's public name, <c>appId.keyId</c>.</summary>
    public string KeyName => ParsedKey().Name;

    /// <summary>The key's secret, which signs token requests and never leaves the server.</summary>
    public string KeySecret => ParsedKey().Secret;

    /// <summary>Splits <c>appId.keyId:secret</c>; false for anything else.</summary>
    public static bool TryParseApiKey(string? apiKey, out string keyName, out string keySecret)
    {
        var match = apiKey is null ? Match.Empty : ApiKeyPattern().Match(apiKey);
        keyName = match.Success ? match.Groups["name"].Value : "";
        keySecret = match.Success ? match.Groups["secret"].Value : "";
        return match.Success;
    }

    private (string Name, string Secret) ParsedKey() =>
        TryParseApiKey(ApiKey, out var name, out var secret)
            ? (name, secret)
            : throw new InvalidOperationException($"{SectionName}:ApiKey is not set or not of the form appId.keyId:secret.");

    [GeneratedRegex(@"^(?<name>[^\s.:]+\.[^\s.:]+):(?<secret>\S+)$")]
    private static partial Regex ApiKeyPattern();
}

/// <summary>Refuses to start with an Ably setting that would fail at the first publish or token request, naming it.</summary>
public sealed class AblyOptionsValidator : IValidateOptions<AblyOptions>
{
    public ValidateOptionsResult Validate(string? name, AblyOptions options)
    {
        var failures = new List<string>();
        const string section = AblyOptions.SectionName;
        if (options.IsConfigured && !AblyOptions.TryParseApiKey(options.ApiKey, out _, out _))
        {
            // Never echo the value: it holds the secret.
            failures.Add($"{section}:ApiKey must be of the form appId.keyId:secret, as Ably's dashboard shows it.");
        }
        if (!Uri.TryCreate(options.RestUrl, UriKind.Absolute, out var restUrl) || restUrl.Scheme is not ("https" or "http"))
        {
            failures.Add($"{section}:RestUrl must be an absolute http(s) URL (was '{options.RestUrl}').");
        }
        if (options.TokenTtl < TimeSpan.FromMinutes(1) || options.TokenTtl > AblyOptions.MaximumTokenTtl)
        {
            failures.Add($"{section}:TokenTtl must be between 00:01:00 and {AblyOptions.MaximumTokenTtl} (was {options.TokenTtl}).");
        }
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
