using System.Text;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Notifications.Domain.Unsubscribe;

/// <summary>
/// How unsubscribe links are signed (section <c>Email:Unsubscribe</c>). The worker signs the links it puts in every
/// email, the API verifies them, so both must share <see cref="SigningKey"/>.
/// </summary>
public sealed class UnsubscribeOptions
{
    public const string SectionName = "Email:Unsubscribe";

    /// <summary>HMAC-SHA256 needs a key at least as long as its 256-bit output.</summary>
    public const int MinimumSigningKeyBytes = 32;

    /// <summary>
    /// The key both services' <c>appsettings.Development.json</c> publish so that a link the local worker wrote works
    /// against the local API. It is public, so it is refused in every other environment.
    /// </summary>
    public const string PublishedDevelopmentSigningKey = "notifications-development-unsubscribe-key-not-secret-0123456789";

    /// <summary>Secret HMAC key as text (its UTF-8 bytes), at least 32 bytes, shared by the worker and the API. Required.</summary>
    public string SigningKey { get; set; } = "";

    /// <summary>How long a link in an email keeps working. Default 60 days.</summary>
    public TimeSpan TokenLifetime { get; set; } = TimeSpan.FromDays(60);
}

internal sealed class UnsubscribeOptionsValidator(IHostEnvironment environment) : IValidateOptions<UnsubscribeOptions>
{
    internal static readonly TimeSpan MaximumTokenLifetime = TimeSpan.FromDays(366);

    public ValidateOptionsResult Validate(string? name, UnsubscribeOptions options)
    {
        var failures = new List<string>();
        const string section = UnsubscribeOptions.SectionName;
        // Configuration binds an empty setting as null, whatever the property's annotation says.
        var keyBytes = Encoding.UTF8.GetByteCount(options.SigningKey ?? "");
        if (keyBytes == 0)
        {
            failures.Add($"{section}:SigningKey is required: a secret of at least {UnsubscribeOptions.MinimumSigningKeyBytes} bytes shared by the email worker and the API.");
        }
        else if (keyBytes < UnsubscribeOptions.MinimumSigningKeyBytes)
        {
            failures.Add($"{section}:SigningKey is {keyBytes} bytes long; it must be at least {UnsubscribeOptions.MinimumSigningKeyBytes}.");
        }
        else if (options.SigningKey == UnsubscribeOptions.PublishedDevelopmentSigningKey && !environment.IsDevelopment())
        {
            failures.Add($"{section}:SigningKey is the published development key; set a secret key in the '{environment.EnvironmentName}' environment.");
        }
        if (options.TokenLifetime <= TimeSpan.Zero || options.TokenLifetime > MaximumTokenLifetime)
        {
            failures.Add($"{section}:TokenLifetime must be more than zero and at most {MaximumTokenLifetime} (was {options.TokenLifetime}).");
        }
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
