using System.Globalization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;
using Notifications.Api.Problems;
using Notifications.Api.Security;

namespace Notifications.Api.RateLimiting;

/// <summary>Marks an endpoint (or a group) as subject to the per-caller rate limit, and says which budget it draws on.</summary>
internal sealed class UserRateLimitMetadata
{
    /// <summary>People's routes: <see cref="UserRateLimitOptions.PermitsPerWindow"/> per caller.</summary>
    public static readonly UserRateLimitMetadata User = new(producer: false);

    /// <summary>Producers' routes (sending, registering recipients): <see cref="UserRateLimitOptions.ProducerPermitsPerWindow"/> per caller.</summary>
    public static readonly UserRateLimitMetadata Producer = new(producer: true);

    private UserRateLimitMetadata(bool producer) => IsProducer = producer;

    public bool IsProducer { get; }
}

/// <summary>
/// Applies the per-caller limit to endpoints marked with <see cref="UserRateLimitMetadata"/>. It runs after
/// authentication, so callers are counted by their token's <c>sub</c>, and before authorization, so a flood of
/// unauthenticated requests is counted too (by client IP).
/// </summary>
/// <remarks>
/// A middleware rather than ASP.NET Core's <c>RateLimiter</c>: that API acquires synchronously first, which would
/// block a thread on Redis, and gives no hook to add the <c>RateLimit-*</c> headers to allowed responses.
/// </remarks>
internal sealed class UserRateLimitingMiddleware(
    RequestDelegate next,
    RedisFixedWindowRateLimiter limiter,
    IProblemDetailsService problemDetailsService,
    IOptions<UserRateLimitOptions> options)
{
    public async Task InvokeAsync(HttpContext context)
    {
        if (context.GetEndpoint()?.Metadata.GetMetadata<UserRateLimitMetadata>() is not { } metadata)
        {
            await next(context);
            return;
        }

        var settings = options.Value;
        var permits = metadata.IsProducer ? settings.ProducerPermitsPerWindow : settings.PermitsPerWindow;
        var decision = await limiter.AcquireAsync(Partition(context, metadata.IsProducer), permits);
        if (decision is not { } counted)
        {
            await next(context);
            return;
        }

        var headers = context.Response.Headers;
        var resetSeconds = counted.ResetAfterSeconds.ToString(CultureInfo.InvariantCulture);
        headers["RateLimit-Limit"] = counted.Limit.ToString(CultureInfo.InvariantCulture);
        headers["RateLimit-Remaining"] = counted.Remaining.ToString(CultureInfo.InvariantCulture);
        headers["RateLimit-Reset"] = resetSeconds;
        headers["RateLimit-Policy"] = string.Create(CultureInfo.InvariantCulture,
            $"{counted.Limit};w={(long)settings.Window.TotalSeconds}");

        if (counted.IsAllowed)
        {
            await next(context);
            return;
        }

        headers.RetryAfter = resetSeconds;
        context.Response.StatusCode = StatusCodes.Status429TooManyRequests;
        await problemDetailsService.WriteAsync(new ProblemDetailsContext
        {
            HttpContext = context,
            ProblemDetails = new ProblemDetails
            {
                Status = StatusCodes.Status429TooManyRequests,
                Type = ProblemTypes.RateLimited,
                Title = "Too many requests.",
                Detail = $"At most {counted.Limit} requests per {settings.Window} are allowed; retry in {resetSeconds} s.",
            },
        });
    }

    /// <summary>
    /// Authenticated callers by user id (whichever replica or address they come from), others by client IP. A caller's
    /// producer budget is counted apart from its user budget.
    /// </summary>
    internal static string Partition(HttpContext context, bool producer = false) =>
        context.User.FindUserId() is { } userId
            ? $"{(producer ? "producer" : "user")}:{userId}"
            : $"ip:{context.Connection.RemoteIpAddress?.ToString() ?? "unknown"}";
}
