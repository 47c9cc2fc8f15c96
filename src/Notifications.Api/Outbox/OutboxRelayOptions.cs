using Microsoft.Extensions.Options;

namespace Notifications.Api.Outbox;

/// <summary>How the outbox relay claims rows (section <c>Outbox</c>).</summary>
public sealed class OutboxRelayOptions
{
    public const string SectionName = "Outbox";

    /// <summary>
    /// Whether this replica runs the relay. Default true; any number of replicas may relay side by side, so this only
    /// serves deployments that dedicate some replicas to it.
    /// </summary>
    public bool Enabled { get; set; } = true;

    /// <summary>Rows claimed and appended per transaction. Default 500.</summary>
    public int BatchSize { get; set; } = 500;

    /// <summary>
    /// How long the relay waits for a signal (this replica's writers, or a Postgres notification) before looking for
    /// rows anyway: the fallback when a signal is missed or the listening connection is down, and how rows due later
    /// are found. Default 1 second.
    /// </summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(1);
}

internal sealed class OutboxRelayOptionsValidator : IValidateOptions<OutboxRelayOptions>
{
    public ValidateOptionsResult Validate(string? name, OutboxRelayOptions options)
    {
        var failures = new List<string>();
        const string section = OutboxRelayOptions.SectionName;
        if (options.BatchSize is < 1 or > 10_000)
        {
            failures.Add($"{section}:BatchSize must be between 1 and 10000 (was {options.BatchSize}).");
        }
        if (options.PollInterval < TimeSpan.FromMilliseconds(10) || options.PollInterval > TimeSpan.FromHours(1))
        {
            failures.Add($"{section}:PollInterval must be between 00:00:00.010 and 01:00:00 (was {options.PollInterval}).");
        }
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
