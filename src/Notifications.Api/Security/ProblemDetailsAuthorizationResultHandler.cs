using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Authorization.Policy;
using Microsoft.AspNetCore.Mvc;
using Microsoft.IdentityModel.Tokens;
using Notifications.Api.Problems;

namespace Notifications.Api.Security;

/// <summary>
/// Lets JwtBearer challenge or forbid as usual (status code and <c>WWW-Authenticate</c>), then writes the RFC 7807
/// body that JwtBearer leaves empty, so 401 and 403 have stable problem types like every other error.
/// </summary>
internal sealed class ProblemDetailsAuthorizationResultHandler(IProblemDetailsService problemDetailsService)
    : IAuthorizationMiddlewareResultHandler
{
    private readonly AuthorizationMiddlewareResultHandler _defaultHandler = new();

    public async Task HandleAsync(RequestDelegate next, HttpContext context, AuthorizationPolicy policy, PolicyAuthorizationResult authorizeResult)
    {
        await _defaultHandler.HandleAsync(next, context, policy, authorizeResult);
        if (!(authorizeResult.Challenged || authorizeResult.Forbidden) || context.Response.HasStarted)
        {
            return;
        }

        var problem = authorizeResult.Challenged
            ? new ProblemDetails
            {
                Status = StatusCodes.Status401Unauthorized,
                Type = ProblemTypes.Unauthorized,
                Title = "Authentication is required.",
                Detail = DescribeAuthenticationFailure(await context.AuthenticateAsync()),
            }
            : new ProblemDetails
            {
                Status = StatusCodes.Status403Forbidden,
                Type = ProblemTypes.Forbidden,
                Title = "Access is denied.",
                Detail = "The bearer token is valid but lacks the role or scope this route requires.",
            };
        context.Response.StatusCode = problem.Status!.Value;
        await problemDetailsService.TryWriteAsync(new ProblemDetailsContext { HttpContext = context, ProblemDetails = problem });
    }

    /// <remarks>
    /// The failure is not kept on the context (only successes are), so it is asked for again: the handler caches its
    /// result per request, so the token is not validated twice.
    /// </remarks>
    private static string DescribeAuthenticationFailure(AuthenticateResult result) => result.Failure switch
    {
        null => "Send a bearer token in the Authorization header.",
        SecurityTokenExpiredException => "The bearer token has expired.",
        StreamTokenRejectedException rejected => rejected.Message,
        _ => "The bearer token is not valid (signature, issuer, audience or format).",
    };
}
