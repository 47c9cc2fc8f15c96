using System.Security.Claims;

namespace Notifications.Api.Security;

public static class ClaimsPrincipalExtensions
{
    /// <summary>
    /// The caller's user id (the token's <c>sub</c>). Use it on routes behind <see cref="Policies.User"/>, which
    /// guarantees the claim; anywhere else a missing <c>sub</c> is a programming error and throws.
    /// </summary>
    public static string GetUserId(this ClaimsPrincipal principal) =>
        principal.FindUserId() ?? throw new InvalidOperationException(
            $"The caller has no '{ClaimNames.Subject}' claim; protect the endpoint with the '{Policies.User}' policy.");

    /// <summary>The caller's user id, or null for an anonymous caller or a token without <c>sub</c>.</summary>
    public static string? FindUserId(this ClaimsPrincipal principal) =>
        principal.Identity?.IsAuthenticated == true && principal.FindFirst(ClaimNames.Subject)?.Value is { Length: > 0 } userId
            ? userId
            : null;

    public static bool HasScope(this ClaimsPrincipal principal, string scope) =>
        principal.FindAll(ClaimNames.Scope).Any(claim =>
            claim.Value.Split(' ', StringSplitOptions.RemoveEmptyEntries).Contains(scope, StringComparer.Ordinal));

    /// <summary>Producers are recognised by scope (service-to-service tokens) or by role (tokens issued to people).</summary>
    public static bool IsProducer(this ClaimsPrincipal principal) =>
        principal.HasScope(Scopes.NotificationsSend) || principal.HasClaim(ClaimNames.Role, Roles.Producer);

    /// <summary>Operators: the <see cref="Policies.Admin"/> policy and the areas that widen what an admin sees ask this.</summary>
    public static bool IsAdmin(this ClaimsPrincipal principal) =>
        principal.HasClaim(ClaimNames.Role, Roles.Admin);
}
