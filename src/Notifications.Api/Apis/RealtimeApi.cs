using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;
using Notifications.Api.Apis.Realtime;
using Notifications.Api.Problems;
using Notifications.Api.RateLimiting;
using Notifications.Api.Realtime;
using Notifications.Api.Security;
using Notifications.Domain.Realtime;

namespace Notifications.Api.Apis;

/// <summary>
/// Real-time delivery to the caller: the Server-Sent-Events stream of their in-app notifications (fed by Redis pub/sub,
/// so any replica serves any user), the short-lived stream token browsers put in its query string, and, when Ably is
/// configured, a signed Ably token request limited to subscribing on the caller's own channel.
/// </summary>
public static class RealtimeApi
{
    public const string StreamRoute = "/api/notifications/stream";
    public const string LastEventIdHeader = "Last-Event-ID";

    public static IEndpointRouteBuilder MapRealtimeApi(this IEndpointRouteBuilder app)
    {
        var notifications = app.MapGroup("/api/notifications")
            .WithTags("Real-time")
            .RequireAuthorization(Policies.User)
            .RequireUserRateLimit();
        notifications.MapGet("/stream", OpenStream)
            .AcceptStreamToken()
            .WithName("OpenNotificationStream")
            .WithSummary("Server-Sent Events of the caller's notifications; Last-Event-ID resumes");
        notifications.MapPost("/stream-token", IssueStreamToken)
            .WithName("IssueStreamToken")
            .WithSummary("A short-lived token that opens only the caller's stream, for ?access_token=");

        app.MapGroup("/api/realtime")
            .WithTags("Real-time")
            .RequireAuthorization(Policies.User)
            .RequireUserRateLimit()
            .MapGet("/token", CreateAblyTokenRequest)
            .WithName("CreateAblyTokenRequest")
            .WithSummary("A signed Ably token request to subscribe to the caller's channel");
        return app;
    }

    /// <remarks>Browsers resend the id of the last event they received in <c>Last-Event-ID</c> when they reconnect.</remarks>
    internal static Results<UserEventStream, ValidationProblem> OpenStream(
        ClaimsPrincipal user, [FromHeader(Name = LastEventIdHeader)] string? lastEventId = null)
    {
        Guid? resumeAfter = null;
        if (!string.IsNullOrEmpty(lastEventId))
        {
            if (!Guid.TryParse(lastEventId, out var id))
            {
                return ProblemDetailsExtensions.ValidationProblem(new Dictionary<string, string[]>
                {
                    [LastEventIdHeader] = ["Must be the id of an event this stream sent (a notification id)."],
                });
            }
            resumeAfter = id;
        }
        return new UserEventStream(user.GetUserId(), resumeAfter);
    }

    internal static Ok<StreamToken> IssueStreamToken(ClaimsPrincipal user, AccessTokenIssuer issuer, IOptions<RealtimeOptions> options)
    {
        var token = issuer.IssueStreamToken(user.GetUserId(), options.Value.StreamTokenLifetime);
        return TypedResults.Ok(new StreamToken(
            token.AccessToken,
            token.ExpiresAt,
            $"{StreamRoute}?{StreamTokens.QueryParameter}={Uri.EscapeDataString(token.AccessToken)}"));
    }

    internal static Results<Ok<AblyTokenRequest>, ProblemHttpResult> CreateAblyTokenRequest(
        ClaimsPrincipal user, IOptions<AblyOptions> options, TimeProvider timeProvider)
    {
        var ably = options.Value;
        if (!ably.IsConfigured)
        {
            return TypedResults.Problem(
                statusCode: StatusCodes.Status404NotFound,
                title: "Ably is not configured.",
                detail: $"real-time via Ably is not configured; use {StreamRoute}");
        }
        return TypedResults.Ok(AblyTokenRequests.Create(ably.KeyName, ably.KeySecret, user.GetUserId(), ably.TokenTtl, timeProvider.GetUtcNow()));
    }
}
