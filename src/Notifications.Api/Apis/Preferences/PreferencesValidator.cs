using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Text.RegularExpressions;
using Notifications.Domain.Model;
using Notifications.Domain.Persistence;

namespace Notifications.Api.Apis.Preferences;

/// <summary>The valid content of a preferences update, ready to store.</summary>
internal sealed record ValidPreferences(bool EmailEnabled, DateTimeOffset? MutedUntil, IReadOnlyList<ValidPreferenceRule> Rules);

internal sealed record ValidPreferenceRule(PreferenceScope Scope, string Key, DeliveryChannel Channel, bool Enabled, DeliveryMode DeliveryMode);

/// <summary>Checks a preferences update and names each bad field as the JSON spells it (<c>rules[3].channel</c>).</summary>
internal static partial class PreferencesValidator
{
    public const int MaximumRules = 500;
    public const int MaximumKeyLength = 100;

    public static bool TryValidate(
        NotificationPreferencesUpdate update,
        [NotNullWhen(true)] out ValidPreferences? preferences,
        out Dictionary<string, string[]> errors)
    {
        errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        preferences = null;

        if (update.EmailEnabled is null)
        {
            errors["emailEnabled"] = ["Required: true or false."];
        }
        DateTimeOffset? mutedUntil = null;
        if (update.MutedUntil is not null)
        {
            if (TryParseInstant(update.MutedUntil, out var instant))
            {
                mutedUntil = DatabaseTime.ToDatabasePrecision(instant.ToUniversalTime());
            }
            else
            {
                errors["mutedUntil"] = ["Must be an ISO 8601 date and time with an offset, e.g. 2026-01-01T08:00:00Z, or null for no mute."];
            }
        }

        var rules = new List<ValidPreferenceRule>();
        if (update.Rules is null)
        {
            errors["rules"] = ["Required: the whole rule set (an empty list for none)."];
        }
        else if (update.Rules.Count > MaximumRules)
        {
            errors["rules"] = [$"At most {MaximumRules} rules are allowed (got {update.Rules.Count})."];
        }
        else
        {
            var seen = new Dictionary<(PreferenceScope, string, DeliveryChannel), int>();
            for (var i = 0; i < update.Rules.Count; i++)
            {
                if (ValidateRule(update.Rules[i], $"rules[{i}]", errors) is not { } rule)
                {
                    continue;
                }
                if (seen.TryGetValue((rule.Scope, rule.Key, rule.Channel), out var first))
                {
                    errors[$"rules[{i}]"] = [$"Repeats rules[{first}]: one rule per scope, key and channel."];
                    continue;
                }
                seen.Add((rule.Scope, rule.Key, rule.Channel), i);
                rules.Add(rule);
            }
        }

        if (errors.Count > 0)
        {
            return false;
        }
        preferences = new ValidPreferences(update.EmailEnabled!.Value, mutedUntil, rules);
        return true;
    }

    private static ValidPreferenceRule? ValidateRule(PreferenceRuleUpdate? rule, string field, Dictionary<string, string[]> errors)
    {
        if (rule is null)
        {
            errors[field] = ["A rule cannot be null."];
            return null;
        }
        var errorCount = errors.Count;
        var scope = ParseEnum<PreferenceScope>(rule.Scope, $"{field}.scope", errors);
        if (string.IsNullOrWhiteSpace(rule.Key) || rule.Key.Length > MaximumKeyLength || rule.Key.Trim().Length != rule.Key.Length
            || rule.Key.Any(char.IsControl))
        {
            errors[$"{field}.key"] = [$"Required: the type or category name, 1 to {MaximumKeyLength} characters without surrounding spaces or control characters."];
        }
        var channel = ParseEnum<DeliveryChannel>(rule.Channel, $"{field}.channel", errors);
        var mode = rule.DeliveryMode is null ? DeliveryMode.Immediate : ParseEnum<DeliveryMode>(rule.DeliveryMode, $"{field}.deliveryMode", errors);
        if (mode == DeliveryMode.Digest && channel is { } known && known != DeliveryChannel.Email)
        {
            errors[$"{field}.deliveryMode"] = ["Only email is batched into digests; use immediate on this channel."];
        }
        return errors.Count > errorCount
            ? null
            : new ValidPreferenceRule(scope!.Value, rule.Key!, channel!.Value, rule.Enabled ?? true, mode!.Value);
    }

    private static TEnum? ParseEnum<TEnum>(string? value, string field, Dictionary<string, string[]> errors) where TEnum : struct, Enum
    {
        if (value is not null && SnakeCaseEnum<TEnum>.AllNames.Contains(value, StringComparer.Ordinal))
        {
            return SnakeCaseEnum<TEnum>.FromName(value);
        }
        errors[field] = [$"Must be one of: {string.Join(", ", SnakeCaseEnum<TEnum>.AllNames)}."];
        return null;
    }

    /// <summary>An instant needs its offset: a bare local time would mean different instants on different servers.</summary>
    private static bool TryParseInstant(string value, out DateTimeOffset instant)
    {
        instant = default;
        return ExplicitOffset().IsMatch(value)
            && DateTimeOffset.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.None, out instant);
    }

    [GeneratedRegex(@"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,7})?)?(Z|[+-]\d{2}:\d{2})$", RegexOptions.IgnoreCase)]
    private static partial Regex ExplicitOffset();
}
