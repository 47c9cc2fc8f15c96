using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Polly;
using Polly.Retry;
using Polly.Timeout;

namespace Notifications.ServiceDefaults.Resilience;

/// <summary>
/// The default resilience pipeline for every <see cref="HttpClient"/>, in the spirit of
/// Microsoft.Extensions.Http.Resilience's standard handler (not obtainable here), built on Polly.Core:
/// a total timeout, retries with exponential backoff and jitter for safe methods only (a POST to a provider is
/// retried by its caller, which owns the idempotency key), and a per-attempt timeout.
/// </summary>
public static class ResilienceHandlerExtensions
{
    public static readonly TimeSpan TotalRequestTimeout = TimeSpan.FromSeconds(30);
    public static readonly TimeSpan AttemptTimeout = TimeSpan.FromSeconds(10);
    public const int MaxRetryAttempts = 3;

    public static IHttpClientBuilder AddDefaultResilienceHandler(this IHttpClientBuilder builder) =>
        builder.AddHttpMessageHandler(() => new ResilienceHandler(CreateDefaultPipeline()));

    public static ResiliencePipeline<HttpResponseMessage> CreateDefaultPipeline() =>
        new ResiliencePipelineBuilder<HttpResponseMessage>()
            .AddTimeout(TotalRequestTimeout)
            .AddRetry(new RetryStrategyOptions<HttpResponseMessage>
            {
                MaxRetryAttempts = MaxRetryAttempts,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = TimeSpan.FromMilliseconds(500),
                ShouldHandle = static args => ValueTask.FromResult(
                    args.Context.Properties.TryGetValue(ResilienceHandler.RequestMethodKey, out var method)
                    && IsSafe(method)
                    && IsTransient(args.Outcome)),
                DelayGenerator = static args => ValueTask.FromResult(RetryAfter(args.Outcome.Result)),
            })
            .AddTimeout(AttemptTimeout)
            .Build();

    private static bool IsTransient(Outcome<HttpResponseMessage> outcome) => outcome switch
    {
        { Exception: HttpRequestException or TimeoutRejectedException } => true,
        { Result: { } response } => IsTransient(response.StatusCode),
        _ => false,
    };

    private static bool IsSafe(HttpMethod method) =>
        method == HttpMethod.Get || method == HttpMethod.Head || method == HttpMethod.Options;

    private static bool IsTransient(HttpStatusCode status) =>
        status is HttpStatusCode.RequestTimeout or HttpStatusCode.TooManyRequests || (int)status >= 500;

    /// <summary>Honours the server's Retry-After; null falls back to the exponential backoff.</summary>
    private static TimeSpan? RetryAfter(HttpResponseMessage? response) =>
        response?.Headers.RetryAfter switch
        {
            { Delta: { } delta } => delta,
            { Date: { } date } => TimeSpan.FromTicks(Math.Max(0, (date - TimeProvider.System.GetUtcNow()).Ticks)),
            _ => null,
        };
}
