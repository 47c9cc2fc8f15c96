using Microsoft.Extensions.Options;

namespace Notifications.Api.Realtime;

/// <summary>The Server-Sent-Events stream and its stream tokens (section <c>Realtime</c>).</summary>
public sealed class RealtimeOptions
{
    public const string SectionName = "Realtime";

    /// <summary>
    /// How often an open stream sends a comment line when nothing else is sent, so proxies and load balancers do not
    /// close it as idle and clients notice a dead connection. Default 15 seconds.
    /// </summary>
    public TimeSpan HeartbeatInterval { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>How long a stream token from <c>POST /api/notifications/stream-token</c> can open a stream. Default 5 minutes.</summary>
    public TimeSpan StreamTokenLifetime { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>
    /// Events one stream may have waiting for a slow client. Past it the stream is closed, and the browser's reconnect
    /// with <c>Last-Event-ID</c> replays what it missed from the inbox, so nothing is lost. Default 256.
    /// </summary>
    public int StreamBufferSize { get; set; } = 256;
}

internal sealed class RealtimeOptionsValidator : IValidateOptions<RealtimeOptions>
{
    public ValidateOptionsResult Validate(string? name, RealtimeOptions options)
    {
        var failures = new List<string>();
        const string section = RealtimeOptions.SectionName;
        if (options.HeartbeatInterval < TimeSpan.FromMilliseconds(10) || options.HeartbeatInterval > TimeSpan.FromMinutes(10))
        {
            failures.Add($"{section}:HeartbeatInterval must be between 00:00:00.010 and 00:10:00 (was {options.HeartbeatInterval}).");
        }
        if (options.StreamTokenLifetime < TimeSpan.FromSeconds(10) || options.StreamTokenLifetime > TimeSpan.FromHours(1))
        {
            failures.Add($"{section}:StreamTokenLifetime must be between 00:00:10 and 01:00:00 (was {options.StreamTokenLifetime}).");
        }
        if (options.StreamBufferSize is < 1 or > 100_000)
        {
            failures.Add($"{section}:StreamBufferSize must be between 1 and 100000 (was {options.StreamBufferSize}).");
        }
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
