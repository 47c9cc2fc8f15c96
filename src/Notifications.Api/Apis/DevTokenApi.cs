using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using Notifications.Api.Problems;
using Notifications.Api.Security;

namespace Notifications.Api.Apis;

/// <summary>
/// <c>POST /api/dev/tokens</c>: issues a signed bearer token for any subject, roles and scopes, so the README's curl
/// examples work locally. Mapped only in Development; in every other environment the route does not exist.
/// </summary>
public static class DevTokenApi
{
    public const string Route = "/api/dev/tokens";

    private const int MaximumValueLength = 200;
    private const int MaximumValues = 20;

    public static IEndpointRouteBuilder MapDevTokenApi(this IEndpointRouteBuilder app)
    {
        app.MapPost(Route, IssueToken)
            .AllowAnonymous()
            .WithTags("Development")
            .WithName("IssueDevToken")
            .WithSummary("Issue a bearer token (Development only)");
        return app;
    }

    internal static Results<Ok<DevTokenResponse>, ValidationProblem> IssueToken(
        DevTokenRequest request, AccessTokenIssuer issuer, IOptions<JwtOptions> options)
    {
        var errors = Validate(request);
        if (errors.Count > 0)
        {
            return ProblemDetailsExtensions.ValidationProblem(errors);
        }

        var token = issuer.Issue(request.Sub!, request.Roles ?? [], request.Scopes ?? [], options.Value.DevTokenLifetime);
        return TypedResults.Ok(new DevTokenResponse(token.AccessToken, "Bearer", token.ExpiresAt));
    }

    internal static Dictionary<string, string[]> Validate(DevTokenRequest request)
    {
        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        if (string.IsNullOrWhiteSpace(request.Sub))
        {
            errors["sub"] = ["The subject (user id) is required."];
        }
        else if (request.Sub.Length > MaximumValueLength)
        {
            errors["sub"] = [$"The subject must be at most {MaximumValueLength} characters."];
        }
        ValidateValues("roles", request.Roles, errors);
        ValidateValues("scopes", request.Scopes, errors);
        return errors;
    }

    /// <summary>Roles and scopes are single words: scopes travel space-separated in one claim.</summary>
    private static void ValidateValues(string field, string[]? values, Dictionary<string, string[]> errors)
    {
        if (values is null)
        {
            return;
        }
        if (values.Length > MaximumValues)
        {
            errors[field] = [$"At most {MaximumValues} values are allowed."];
            return;
        }
        for (var i = 0; i < values.Length; i++)
        {
            if (string.IsNullOrEmpty(values[i]) || values[i].Length > MaximumValueLength || values[i].Any(char.IsWhiteSpace))
            {
                errors[$"{field}[{i}]"] = [$"Each value must be 1 to {MaximumValueLength} characters without whitespace."];
            }
        }
    }
}

/// <param name="Sub">The user id the token is for (its <c>sub</c>).</param>
/// <param name="Roles">Roles, e.g. <c>admin</c> or <c>producer</c>.</param>
/// <param name="Scopes">Scopes, e.g. <c>notifications:send</c>.</param>
public sealed record DevTokenRequest(string? Sub, string[]? Roles, string[]? Scopes);

public sealed record DevTokenResponse(string AccessToken, string TokenType, DateTimeOffset ExpiresAt);
