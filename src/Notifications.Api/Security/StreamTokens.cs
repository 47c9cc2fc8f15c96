using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.IdentityModel.Tokens;

namespace Notifications.Api.Security;

/// <summary>
/// Stream tokens: browsers' <c>EventSource</c> cannot send an Authorization header, so the event stream also takes a
/// short-lived token in <c>?access_token=</c>. A stream token (claim <c>token_use=stream</c>) is accepted only by
/// endpoints marked with <see cref="AcceptStreamToken{TBuilder}"/>, in the query or the header; a token in the query
/// must be a stream token (query strings end up in proxy logs and browser history, so full tokens never go there).
/// </summary>
public static class StreamTokens
{
    public const string TokenUseClaim = "token_use";
    public const string StreamTokenUse = "stream";
    public const string QueryParameter = "access_token";

    private static readonly object TokenFromQueryKey = new();

    /// <summary>Lets the endpoint (or group) be called with a stream token, from the header or <c>?access_token=</c>.</summary>
    public static TBuilder AcceptStreamToken<TBuilder>(this TBuilder builder) where TBuilder : IEndpointConventionBuilder =>
        builder.WithMetadata(StreamTokenEndpointMetadata.Instance);

    /// <summary>The JwtBearer events that enforce the rules above; set on the bearer options.</summary>
    internal static JwtBearerEvents CreateEvents() => new()
    {
        OnMessageReceived = ReadTokenFromQuery,
        OnTokenValidated = CheckTokenUse,
    };

    /// <remarks>Routing has already chosen the endpoint when authentication runs, so its metadata says whether the query counts.</remarks>
    private static Task ReadTokenFromQuery(MessageReceivedContext context)
    {
        if (AcceptsStreamToken(context.HttpContext)
            && context.Request.Query.TryGetValue(QueryParameter, out var values)
            && values.ToString() is { Length: > 0 } token)
        {
            context.Token = token;
            context.HttpContext.Items[TokenFromQueryKey] = true;
        }
        return Task.CompletedTask;
    }

    private static Task CheckTokenUse(TokenValidatedContext context)
    {
        var isStreamToken = context.Principal?.HasClaim(TokenUseClaim, StreamTokenUse) == true;
        if (context.HttpContext.Items.ContainsKey(TokenFromQueryKey) && !isStreamToken)
        {
            context.Fail(new StreamTokenRejectedException(
                $"Only a stream token (from POST /api/notifications/stream-token) is accepted in '{QueryParameter}'; send other tokens in the Authorization header."));
        }
        else if (isStreamToken && !AcceptsStreamToken(context.HttpContext))
        {
            context.Fail(new StreamTokenRejectedException(
                "A stream token opens the event stream (GET /api/notifications/stream) and is accepted nowhere else."));
        }
        return Task.CompletedTask;
    }

    private static bool AcceptsStreamToken(HttpContext context) =>
        context.GetEndpoint()?.Metadata.GetMetadata<StreamTokenEndpointMetadata>() is not null;

    private sealed class StreamTokenEndpointMetadata
    {
        public static readonly StreamTokenEndpointMetadata Instance = new();
    }
}

/// <summary>A valid token used where its kind is not accepted; its message is safe to show the caller.</summary>
public sealed class StreamTokenRejectedException(string message) : SecurityTokenValidationException(message);
