using Microsoft.Extensions.Options;

namespace Notifications.Api.Sending;

/// <summary>How notifications are accepted (section <c>Notifications</c>).</summary>
public sealed class SendingOptions
{
    public const string SectionName = "Notifications";

    /// <summary>
    /// Types that are critical whatever priority the producer gave (e.g. <c>security.alert</c>): they are sent at
    /// <c>critical</c> priority, so their email is immediate (never a digest), ignores the user's mute and bypasses the
    /// email quota. Default (appsettings.json): <c>security.alert</c>.
    /// </summary>
    public List<string> CriticalTypes { get; set; } = [];

    /// <summary>How long a repeat with the same <c>Idempotency-Key</c> replays the first answer. Default 24 hours.</summary>
    public TimeSpan IdempotencyKeyLifetime { get; set; } = TimeSpan.FromHours(24);

    /// <summary>The largest request body the send endpoints read. Default 1 MiB.</summary>
    public int MaximumRequestBytes { get; set; } = 1024 * 1024;
}

internal sealed class SendingOptionsValidator : IValidateOptions<SendingOptions>
{
    public ValidateOptionsResult Validate(string? name, SendingOptions options)
    {
        var failures = new List<string>();
        const string section = SendingOptions.SectionName;
        for (var index = 0; index < options.CriticalTypes.Count; index++)
        {
            if (string.IsNullOrWhiteSpace(options.CriticalTypes[index]))
            {
                failures.Add($"{section}:CriticalTypes:{index} must not be empty.");
            }
        }
        if (options.IdempotencyKeyLifetime < TimeSpan.FromMinutes(1) || options.IdempotencyKeyLifetime > TimeSpan.FromDays(30))
        {
            failures.Add($"{section}:IdempotencyKeyLifetime must be between 00:01:00 and 30.00:00:00 (was {options.IdempotencyKeyLifetime}).");
        }
        if (options.MaximumRequestBytes is < 1024 or > 64 * 1024 * 1024)
        {
            failures.Add($"{section}:MaximumRequestBytes must be between 1024 and 67108864 (was {options.MaximumRequestBytes}).");
        }
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
