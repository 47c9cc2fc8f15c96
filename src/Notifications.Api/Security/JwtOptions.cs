using System.Text;
using Microsoft.IdentityModel.Tokens;

namespace Notifications.Api.Security;

/// <summary>
/// How the API validates bearer tokens (section <c>Authentication:Jwt</c>). Tokens are HS256 JWTs; every API
/// replica and the dev token endpoint must share the key, which is why there is no generated default.
/// </summary>
public sealed class JwtOptions
{
    public const string SectionName = "Authentication:Jwt";

    /// <summary>HS256 needs a key at least as long as its 256-bit output.</summary>
    public const int MinimumSigningKeyBytes = 32;

    /// <summary>
    /// The key <c>appsettings.Development.json</c> publishes so that local replicas and the README's curl examples
    /// agree. It is public, so it is refused in every other environment.
    /// </summary>
    public const string PublishedDevelopmentSigningKey = "notifications-development-signing-key-not-secret-0123456789";

    /// <summary>The <c>iss</c> every accepted token carries and the dev endpoint writes. Required, no default.</summary>
    public string Issuer { get; set; } = "";

    /// <summary>The <c>aud</c> every accepted token carries and the dev endpoint writes. Required, no default.</summary>
    public string Audience { get; set; } = "";

    /// <summary>Symmetric HS256 key as text (its UTF-8 bytes are the key), at least 32 bytes. Required, no default.</summary>
    public string SigningKey { get; set; } = "";

    /// <summary>How long a token from the Development-only <c>POST /api/dev/tokens</c> is valid. Default 1 hour.</summary>
    public TimeSpan DevTokenLifetime { get; set; } = TimeSpan.FromHours(1);

    public SymmetricSecurityKey CreateSecurityKey() => new(Encoding.UTF8.GetBytes(SigningKey));
}
