using Microsoft.Extensions.Options;
using Notifications.Domain.Model;
using Notifications.Domain.Persistence;

namespace Notifications.EmailWorker.Consuming;

/// <summary>How the worker consumes its delivery streams (section <c>Worker</c>).</summary>
public sealed class WorkerOptions
{
    public const string SectionName = "Worker";

    /// <summary>Stream entries read (and jobs claimed in one statement) at a time. Default 100.</summary>
    public int BatchSize { get; set; } = 100;

    /// <summary>How long one blocking stream read waits for new entries. Default 2 seconds.</summary>
    public TimeSpan ReadBlockTime { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>Delivery attempts in flight at once, per channel and worker process. Default 5.</summary>
    public int MaxConcurrency { get; set; } = 5;

    /// <summary>
    /// Provider calls started per second on each channel, across every worker replica (counted in Redis); 0 means
    /// unlimited. Attempts settled without a provider call (skipped, deferred by the email quota or the user's rate
    /// limit) do not count. Default 50.
    /// </summary>
    public int SendRateLimit { get; set; } = 50;

    /// <summary>
    /// Per-channel overrides of <see cref="MaxConcurrency"/> and <see cref="SendRateLimit"/>, keyed by the channel's
    /// stored name (<c>in_app</c>, <c>email</c>), e.g. <c>Worker:Channels:in_app:SendRateLimit=0</c>.
    /// </summary>
    public Dictionary<string, ChannelConsumerOptions> Channels { get; set; } = new(StringComparer.Ordinal);

    /// <summary>Provider attempts a job gets before a transient failure dead-letters it. Default 5.</summary>
    public int MaxAttempts { get; set; } = 5;

    /// <summary>The back-off unit: retry n waits min(2^n × this, <see cref="RetryMaxDelay"/>) with jitter. Default 1 second.</summary>
    public TimeSpan RetryBaseDelay { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>The longest back-off between attempts (a provider's Retry-After may ask for longer). Default 30 seconds.</summary>
    public TimeSpan RetryMaxDelay { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// How long a claimed job belongs to the worker that claimed it; after that another worker may take it over. An
    /// attempt still running at half the lease is cancelled (a transient failure), so a hung call never outlives it.
    /// Default 60 seconds.
    /// </summary>
    public TimeSpan Lease { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>How long an entry must have been pending on a consumer before another one reclaims it. Default 60 seconds.</summary>
    public TimeSpan ReclaimMinIdle { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>
    /// How often each consumer reclaims idle entries, refreshes its stream's lag and pending gauges, trims acknowledged
    /// entries and re-reports open circuits. Default 15 seconds.
    /// </summary>
    public TimeSpan ReclaimInterval { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>
    /// How long a consumer of an ended worker (one that no longer marks itself running, with nothing pending) must have
    /// been silent before the maintenance removes it from the group. Every worker process reads under a name of its own,
    /// so each restart, deployment or scale-in leaves one behind. Default 1 hour.
    /// </summary>
    public TimeSpan IdleConsumerRemoval { get; set; } = TimeSpan.FromHours(1);

    public CircuitBreakerOptions CircuitBreaker { get; set; } = new();

    /// <summary>The concurrency of <paramref name="channel"/>: its override, else <see cref="MaxConcurrency"/>.</summary>
    public int MaxConcurrencyFor(DeliveryChannel channel) =>
        Channels.GetValueOrDefault(SnakeCaseEnum<DeliveryChannel>.ToName(channel))?.MaxConcurrency ?? MaxConcurrency;

    /// <summary>The send rate limit of <paramref name="channel"/>: its override, else <see cref="SendRateLimit"/>.</summary>
    public int SendRateLimitFor(DeliveryChannel channel) =>
        Channels.GetValueOrDefault(SnakeCaseEnum<DeliveryChannel>.ToName(channel))?.SendRateLimit ?? SendRateLimit;
}

/// <summary>One channel's overrides (section <c>Worker:Channels:&lt;channel&gt;</c>); unset values fall back to <see cref="WorkerOptions"/>.</summary>
public sealed class ChannelConsumerOptions
{
    public int? MaxConcurrency { get; set; }

    public int? SendRateLimit { get; set; }
}

/// <summary>
/// When a provider's circuit opens (section <c>Worker:CircuitBreaker</c>): once at least <see cref="MinimumThroughput"/>
/// attempts on it within <see cref="SamplingDuration"/> failed transiently in a proportion of at least
/// <see cref="FailureRatio"/>, it is not called for <see cref="BreakDuration"/>; then one trial attempt decides whether it
/// closes again or stays open for another break.
/// </summary>
public sealed class CircuitBreakerOptions
{
    /// <summary>Default 0.5.</summary>
    public double FailureRatio { get; set; } = 0.5;

    /// <summary>Default 10.</summary>
    public int MinimumThroughput { get; set; } = 10;

    /// <summary>Default 30 seconds.</summary>
    public TimeSpan SamplingDuration { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Default 30 seconds.</summary>
    public TimeSpan BreakDuration { get; set; } = TimeSpan.FromSeconds(30);
}

internal sealed class WorkerOptionsValidator : IValidateOptions<WorkerOptions>
{
    public ValidateOptionsResult Validate(string? name, WorkerOptions options)
    {
        var failures = new List<string>();
        const string section = WorkerOptions.SectionName;
        Range(failures, $"{section}:BatchSize", options.BatchSize, 1, 1000);
        Range(failures, $"{section}:ReadBlockTime", options.ReadBlockTime, TimeSpan.FromMilliseconds(10), TimeSpan.FromSeconds(30));
        Range(failures, $"{section}:MaxConcurrency", options.MaxConcurrency, 1, 1000);
        Range(failures, $"{section}:SendRateLimit", options.SendRateLimit, 0, 1_000_000);
        foreach (var (channel, overrides) in options.Channels)
        {
            if (!SnakeCaseEnum<DeliveryChannel>.AllNames.Contains(channel, StringComparer.Ordinal))
            {
                failures.Add($"{section}:Channels:{channel} is not a channel; use one of: {string.Join(", ", SnakeCaseEnum<DeliveryChannel>.AllNames)}.");
                continue;
            }
            if (overrides.MaxConcurrency is { } concurrency)
            {
                Range(failures, $"{section}:Channels:{channel}:MaxConcurrency", concurrency, 1, 1000);
            }
            if (overrides.SendRateLimit is { } rate)
            {
                Range(failures, $"{section}:Channels:{channel}:SendRateLimit", rate, 0, 1_000_000);
            }
        }
        Range(failures, $"{section}:MaxAttempts", options.MaxAttempts, 1, 100);
        Range(failures, $"{section}:RetryBaseDelay", options.RetryBaseDelay, TimeSpan.FromMilliseconds(1), TimeSpan.FromHours(1));
        Range(failures, $"{section}:RetryMaxDelay", options.RetryMaxDelay, TimeSpan.FromMilliseconds(1), TimeSpan.FromDays(1));
        if (options.RetryMaxDelay < options.RetryBaseDelay)
        {
            failures.Add($"{section}:RetryMaxDelay must not be shorter than {section}:RetryBaseDelay (was {options.RetryMaxDelay} < {options.RetryBaseDelay}).");
        }
        Range(failures, $"{section}:Lease", options.Lease, TimeSpan.FromSeconds(1), TimeSpan.FromHours(1));
        Range(failures, $"{section}:ReclaimMinIdle", options.ReclaimMinIdle, TimeSpan.FromMilliseconds(100), TimeSpan.FromHours(1));
        Range(failures, $"{section}:ReclaimInterval", options.ReclaimInterval, TimeSpan.FromMilliseconds(50), TimeSpan.FromMinutes(10));
        Range(failures, $"{section}:IdleConsumerRemoval", options.IdleConsumerRemoval, TimeSpan.FromMilliseconds(100), TimeSpan.FromDays(30));

        var breaker = options.CircuitBreaker;
        const string breakerSection = $"{section}:CircuitBreaker";
        if (breaker.FailureRatio is not (> 0 and <= 1))
        {
            failures.Add($"{breakerSection}:FailureRatio must be more than 0 and at most 1 (was {breaker.FailureRatio}).");
        }
        Range(failures, $"{breakerSection}:MinimumThroughput", breaker.MinimumThroughput, 1, 100_000);
        Range(failures, $"{breakerSection}:SamplingDuration", breaker.SamplingDuration, TimeSpan.FromMilliseconds(100), TimeSpan.FromHours(1));
        Range(failures, $"{breakerSection}:BreakDuration", breaker.BreakDuration, TimeSpan.FromMilliseconds(100), TimeSpan.FromHours(1));
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    private static void Range(List<string> failures, string key, int value, int minimum, int maximum)
    {
        if (value < minimum || value > maximum)
        {
            failures.Add($"{key} must be between {minimum} and {maximum} (was {value}).");
        }
    }

    private static void Range(List<string> failures, string key, TimeSpan value, TimeSpan minimum, TimeSpan maximum)
    {
        if (value < minimum || value > maximum)
        {
            failures.Add($"{key} must be between {minimum:c} and {maximum:c} (was {value:c}).");
        }
    }
}
