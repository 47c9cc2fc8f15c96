using Microsoft.Extensions.Options;

namespace Notifications.Api.RateLimiting;

/// <summary>The per-caller API rate limit (section <c>RateLimiting</c>), shared by all replicas through Redis.</summary>
public sealed class UserRateLimitOptions
{
    public const string SectionName = "RateLimiting";

    /// <summary>Requests one caller may make per window. Default 100.</summary>
    public int PermitsPerWindow { get; set; } = 100;

    /// <summary>
    /// Requests one producer (a caller of the send and user-registration routes) may make per window: services send in
    /// bulk, so this guards against a runaway producer rather than pacing a person. Default 300,000 (5,000 a second).
    /// </summary>
    public int ProducerPermitsPerWindow { get; set; } = 300_000;

    /// <summary>Length of the fixed window, at least one second. Default 1 minute.</summary>
    public TimeSpan Window { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>
    /// How long a request waits for Redis before it is let through uncounted. Default 250 ms: a healthy Redis answers
    /// in about a millisecond, and a slow one must not make the whole API slow.
    /// </summary>
    public TimeSpan RedisTimeout { get; set; } = TimeSpan.FromMilliseconds(250);
}

internal sealed class UserRateLimitOptionsValidator : IValidateOptions<UserRateLimitOptions>
{
    public ValidateOptionsResult Validate(string? name, UserRateLimitOptions options)
    {
        var failures = new List<string>();
        const string section = UserRateLimitOptions.SectionName;
        if (options.PermitsPerWindow < 1)
        {
            failures.Add($"{section}:PermitsPerWindow must be at least 1 (was {options.PermitsPerWindow}).");
        }
        if (options.ProducerPermitsPerWindow < 1)
        {
            failures.Add($"{section}:ProducerPermitsPerWindow must be at least 1 (was {options.ProducerPermitsPerWindow}).");
        }
        if (options.Window < TimeSpan.FromSeconds(1) || options.Window > TimeSpan.FromDays(1))
        {
            failures.Add($"{section}:Window must be between 00:00:01 and 1.00:00:00 (was {options.Window}).");
        }
        if (options.RedisTimeout <= TimeSpan.Zero || options.RedisTimeout > TimeSpan.FromSeconds(30))
        {
            failures.Add($"{section}:RedisTimeout must be more than zero and at most 00:00:30 (was {options.RedisTimeout}).");
        }
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
