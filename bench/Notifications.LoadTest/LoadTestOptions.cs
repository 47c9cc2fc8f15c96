namespace Notifications.LoadTest;

/// <summary>Bound from the command line, e.g. <c>--Scenario single --Rate 2000 --Duration 00:00:30</c>.</summary>
internal sealed class LoadTestOptions
{
    /// <summary>
    /// <c>single</c> (one recipient per request), <c>batch</c> (<see cref="BatchSize"/> recipients per request) or
    /// <c>sse</c> (<see cref="Users"/> open event streams, sends at <see cref="Rate"/>, latency until each event arrives).
    /// </summary>
    public string Scenario { get; set; } = "single";

    /// <summary>
    /// Requests per second offered at a fixed schedule (open loop: a slow response does not slow the schedule, and
    /// latency is measured from each request's scheduled start, so queueing delay is not hidden). 0 = closed loop:
    /// <see cref="Concurrency"/> clients each sending as fast as answers come back (the maximum throughput).
    /// </summary>
    public int Rate { get; set; } = 2000;

    /// <summary>Clients in the closed loop; the most requests in flight in the open loop.</summary>
    public int Concurrency { get; set; } = 64;

    public TimeSpan Duration { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Not measured: lets the server JIT and fill its pools before the measured run.</summary>
    public TimeSpan Warmup { get; set; } = TimeSpan.FromSeconds(5);

    public int BatchSize { get; set; } = 1000;

    /// <summary>The channels of the <c>sse</c> scenario's notifications. Default: in-app only, the path being measured.</summary>
    public string[] SseChannels { get; set; } = ["in_app"];

    /// <summary>Recipients registered before the run (<c>PUT /api/users/{id}</c>) and cycled through.</summary>
    public int Users { get; set; } = 1000;

    /// <summary>The API's base URL; default: the <c>api</c> endpoint in the running AppHost's <c>endpoints.json</c>.</summary>
    public string? ApiUrl { get; set; }

    /// <summary>The AppHost's state directory (where <c>endpoints.json</c> is); default: the AppHost's own default.</summary>
    public string? StateDirectory { get; set; }
}
