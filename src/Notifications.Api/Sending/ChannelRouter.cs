using Notifications.Domain.Model;
using Notifications.Domain.Persistence;

namespace Notifications.Api.Sending;

/// <summary>A recipient as routing needs them: the user-wide switches and the rules that match the notification.</summary>
internal sealed record Recipient(string Id, string? Email, bool EmailEnabled, DateTimeOffset? MutedUntil);

/// <summary>One of a user's preference rules (see <see cref="NotificationPreference"/>).</summary>
internal sealed record PreferenceRule(PreferenceScope Scope, string Key, DeliveryChannel Channel, bool Enabled, DeliveryMode Mode);

/// <summary>A job to create: <c>queued</c> (it gets an outbox row) or <c>digest_pending</c> (it waits for the digest).</summary>
internal sealed record PlannedJob(DeliveryChannel Channel, DeliveryJobStatus Status);

/// <summary>What one notification becomes: its effective priority, its jobs and the channels it skips.</summary>
internal sealed record DeliveryPlan(NotificationPriority Priority, IReadOnlyList<PlannedJob> Jobs, IReadOnlyList<SkippedChannel> Skipped);

/// <summary>
/// Chooses the channels of a notification from the user's preferences. Per channel, the rule for the notification's
/// type wins over the rule for its category; without a rule the channel is on and email is immediate. On top of the
/// rules, email needs an address, the user-wide email switch on and no mute. Critical notifications (priority
/// <c>critical</c>, or a critical type) skip digests and mutes but still honour a channel the user turned off.
/// </summary>
internal static class ChannelRouter
{
    public const string DisabledByPreference = "disabled_by_preference";
    public const string EmailDisabled = "email_disabled";
    public const string NoEmailAddress = "no_email_address";
    public const string Muted = "muted";

    public static DeliveryPlan Plan(
        NotificationDraft draft, Recipient recipient, IReadOnlyList<PreferenceRule> rules, bool criticalType, DateTimeOffset now)
    {
        var critical = criticalType || draft.Priority == NotificationPriority.Critical;
        var priority = critical ? NotificationPriority.Critical : draft.Priority;
        var jobs = new List<PlannedJob>(draft.Channels.Count);
        var skipped = new List<SkippedChannel>();
        foreach (var channel in draft.Channels)
        {
            var rule = Find(rules, PreferenceScope.Type, draft.Type, channel) ?? Find(rules, PreferenceScope.Category, draft.Category, channel);
            var skipReason = SkipReason(channel, rule, recipient, critical, now);
            if (skipReason is not null)
            {
                skipped.Add(new SkippedChannel(SnakeCaseEnum<DeliveryChannel>.ToName(channel), skipReason));
                continue;
            }
            var digest = channel == DeliveryChannel.Email && !critical && rule?.Mode == DeliveryMode.Digest;
            jobs.Add(new PlannedJob(channel, digest ? DeliveryJobStatus.DigestPending : DeliveryJobStatus.Queued));
        }
        return new DeliveryPlan(priority, jobs, skipped);
    }

    private static string? SkipReason(DeliveryChannel channel, PreferenceRule? rule, Recipient recipient, bool critical, DateTimeOffset now)
    {
        if (rule is { Enabled: false })
        {
            return DisabledByPreference;
        }
        if (channel != DeliveryChannel.Email)
        {
            return null;
        }
        if (!recipient.EmailEnabled)
        {
            return EmailDisabled;
        }
        if (string.IsNullOrEmpty(recipient.Email))
        {
            return NoEmailAddress;
        }
        return !critical && recipient.MutedUntil > now ? Muted : null;
    }

    private static PreferenceRule? Find(IReadOnlyList<PreferenceRule> rules, PreferenceScope scope, string key, DeliveryChannel channel)
    {
        foreach (var rule in rules)
        {
            if (rule.Scope == scope && rule.Channel == channel && string.Equals(rule.Key, key, StringComparison.Ordinal))
            {
                return rule;
            }
        }
        return null;
    }
}
