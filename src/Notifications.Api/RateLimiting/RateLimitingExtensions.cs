using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Notifications.Api.RateLimiting;

public static class RateLimitingExtensions
{
    /// <summary>
    /// Subjects every endpoint of the group (or the endpoint) to the per-caller limit of <see cref="UserRateLimitOptions"/>:
    /// <c>app.MapGroup("/api/notifications").RequireAuthorization(Policies.User).RequireUserRateLimit()</c>.
    /// </summary>
    public static TBuilder RequireUserRateLimit<TBuilder>(this TBuilder builder) where TBuilder : IEndpointConventionBuilder =>
        builder.WithMetadata(UserRateLimitMetadata.User);

    /// <summary>
    /// Subjects the producer routes to the per-caller producer limit (<see cref="UserRateLimitOptions.ProducerPermitsPerWindow"/>),
    /// which is sized for services sending in bulk rather than for people.
    /// </summary>
    public static TBuilder RequireProducerRateLimit<TBuilder>(this TBuilder builder) where TBuilder : IEndpointConventionBuilder =>
        builder.WithMetadata(UserRateLimitMetadata.Producer);

    /// <summary>The Redis-backed limiter and its options (validated on start). Needs the <c>IDatabase</c> of AddRedisClient.</summary>
    public static IHostApplicationBuilder AddUserRateLimiting(this IHostApplicationBuilder builder)
    {
        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<IValidateOptions<UserRateLimitOptions>, UserRateLimitOptionsValidator>();
        builder.Services.AddOptions<UserRateLimitOptions>().BindConfiguration(UserRateLimitOptions.SectionName).ValidateOnStart();
        builder.Services.AddSingleton<RedisFixedWindowRateLimiter>();
        return builder;
    }

    /// <summary>Enforces the limit on endpoints marked with <see cref="RequireUserRateLimit{TBuilder}"/>.</summary>
    public static IApplicationBuilder UseUserRateLimiting(this IApplicationBuilder app) =>
        app.UseMiddleware<UserRateLimitingMiddleware>();
}
