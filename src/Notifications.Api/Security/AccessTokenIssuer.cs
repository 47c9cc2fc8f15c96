using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Notifications.Api.Security;

/// <summary>A signed bearer token and the instant it stops being accepted.</summary>
public sealed record IssuedAccessToken(string AccessToken, DateTimeOffset ExpiresAt);

/// <summary>Signs tokens the API's own JwtBearer validation accepts (same issuer, audience and key).</summary>
public sealed class AccessTokenIssuer(IOptions<JwtOptions> options, TimeProvider timeProvider)
{
    private static readonly JsonWebTokenHandler Handler = new();

    public IssuedAccessToken Issue(string subject, IReadOnlyCollection<string> roles, IReadOnlyCollection<string> scopes, TimeSpan lifetime)
    {
        var claims = new Dictionary<string, object>(StringComparer.Ordinal) { [ClaimNames.Subject] = subject };
        if (roles.Count > 0)
        {
            claims[ClaimNames.Role] = roles.ToArray();
        }
        if (scopes.Count > 0)
        {
            claims[ClaimNames.Scope] = string.Join(' ', scopes);
        }
        return Sign(claims, lifetime);
    }

    /// <summary>
    /// A token for the caller's event stream only (<see cref="StreamTokens"/>): it carries the user id and no roles or
    /// scopes, so it can do nothing but open that user's stream.
    /// </summary>
    public IssuedAccessToken IssueStreamToken(string subject, TimeSpan lifetime) =>
        Sign(new Dictionary<string, object>(StringComparer.Ordinal)
        {
            [ClaimNames.Subject] = subject,
            [StreamTokens.TokenUseClaim] = StreamTokens.StreamTokenUse,
        }, lifetime);

    private IssuedAccessToken Sign(Dictionary<string, object> claims, TimeSpan lifetime)
    {
        var jwt = options.Value;
        var now = timeProvider.GetUtcNow();
        // JWT times are whole seconds: report the expiry the token actually carries.
        var expiresAt = DateTimeOffset.FromUnixTimeSeconds((now + lifetime).ToUnixTimeSeconds());

        var token = Handler.CreateToken(new SecurityTokenDescriptor
        {
            Issuer = jwt.Issuer,
            Audience = jwt.Audience,
            Claims = claims,
            IssuedAt = now.UtcDateTime,
            NotBefore = now.UtcDateTime,
            Expires = expiresAt.UtcDateTime,
            SigningCredentials = new SigningCredentials(jwt.CreateSecurityKey(), SecurityAlgorithms.HmacSha256),
        });
        return new IssuedAccessToken(token, expiresAt);
    }
}
