using System.Text;
using Microsoft.Extensions.Options;

namespace Notifications.Api.Security;

/// <summary>Refuses to start with settings that would make every token invalid or forgeable, naming the setting.</summary>
internal sealed class JwtOptionsValidator(IHostEnvironment environment) : IValidateOptions<JwtOptions>
{
    internal static readonly TimeSpan MaximumDevTokenLifetime = TimeSpan.FromDays(1);

    public ValidateOptionsResult Validate(string? name, JwtOptions options)
    {
        var failures = new List<string>();
        const string section = JwtOptions.SectionName;

        if (string.IsNullOrWhiteSpace(options.Issuer))
        {
            failures.Add($"{section}:Issuer is required: the 'iss' claim every accepted token must carry.");
        }
        if (string.IsNullOrWhiteSpace(options.Audience))
        {
            failures.Add($"{section}:Audience is required: the 'aud' claim every accepted token must carry.");
        }

        var keyBytes = Encoding.UTF8.GetByteCount(options.SigningKey);
        if (keyBytes == 0)
        {
            failures.Add($"{section}:SigningKey is required: a secret of at least {JwtOptions.MinimumSigningKeyBytes} bytes that every API replica shares.");
        }
        else if (keyBytes < JwtOptions.MinimumSigningKeyBytes)
        {
            failures.Add($"{section}:SigningKey is {keyBytes} bytes long; HS256 needs at least {JwtOptions.MinimumSigningKeyBytes}.");
        }
        else if (options.SigningKey == JwtOptions.PublishedDevelopmentSigningKey && !environment.IsDevelopment())
        {
            failures.Add($"{section}:SigningKey is the published development key; set a secret key in the '{environment.EnvironmentName}' environment.");
        }

        if (options.DevTokenLifetime <= TimeSpan.Zero || options.DevTokenLifetime > MaximumDevTokenLifetime)
        {
            failures.Add($"{section}:DevTokenLifetime must be more than zero and at most {MaximumDevTokenLifetime} (was {options.DevTokenLifetime}).");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
