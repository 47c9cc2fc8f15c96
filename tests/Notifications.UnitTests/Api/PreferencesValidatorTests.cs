using Notifications.Api.Apis.Preferences;
using Notifications.Domain.Model;

namespace Notifications.UnitTests.Api;

public sealed class PreferencesValidatorTests
{
    [Fact]
    public void Valid_FillsDefaultsAndNormalisesTheMuteToUtc()
    {
        var update = new NotificationPreferencesUpdate(false, "2030-01-01T09:30:00+01:00",
        [
            new PreferenceRuleUpdate("category", "social", "email", null, "digest"),
            new PreferenceRuleUpdate("type", "comment.created", "in_app", false, null),
        ]);

        Assert.True(PreferencesValidator.TryValidate(update, out var valid, out var errors));

        Assert.Empty(errors);
        Assert.False(valid.EmailEnabled);
        Assert.Equal(new DateTimeOffset(2030, 1, 1, 8, 30, 0, TimeSpan.Zero), valid.MutedUntil);
        Assert.Equal(TimeSpan.Zero, valid.MutedUntil!.Value.Offset);
        Assert.Equal(
            [
                new ValidPreferenceRule(PreferenceScope.Category, "social", DeliveryChannel.Email, true, DeliveryMode.Digest),
                new ValidPreferenceRule(PreferenceScope.Type, "comment.created", DeliveryChannel.InApp, false, DeliveryMode.Immediate),
            ],
            valid.Rules);
    }

    [Fact]
    public void SameKeyOnAnotherChannelOrScope_IsNotADuplicate()
    {
        var update = new NotificationPreferencesUpdate(true, null,
        [
            new PreferenceRuleUpdate("type", "billing", "email", true, null),
            new PreferenceRuleUpdate("type", "billing", "in_app", true, null),
            new PreferenceRuleUpdate("category", "billing", "email", true, null),
        ]);

        Assert.True(PreferencesValidator.TryValidate(update, out var valid, out _));
        Assert.Equal(3, valid.Rules.Count);
    }

    [Theory]
    [InlineData("2030-01-01T00:00:00Z")]
    [InlineData("2030-01-01T00:00Z")]
    [InlineData("2030-01-01T00:00:00.1234567-05:30")]
    [InlineData("2030-01-01t00:00:00z")]
    public void MutedUntil_WithAnOffset_IsAccepted(string mutedUntil)
    {
        Assert.True(PreferencesValidator.TryValidate(new NotificationPreferencesUpdate(true, mutedUntil, []), out _, out _));
    }

    [Fact]
    public void MutedUntil_IsKeptToTheMicrosecondAsStored()
    {
        Assert.True(PreferencesValidator.TryValidate(new NotificationPreferencesUpdate(true, "2030-01-01T00:00:00.1234567Z", []), out var valid, out _));

        Assert.Equal(new DateTimeOffset(2030, 1, 1, 0, 0, 0, TimeSpan.Zero).AddTicks(1234560), valid.MutedUntil);
    }

    [Theory]
    [InlineData("2030-01-01T00:00:00")]
    [InlineData("2030-01-01")]
    [InlineData("01/01/2030 00:00:00 +00:00")]
    [InlineData("2030-02-30T00:00:00Z")]
    [InlineData("2030-01-01T24:00:00Z")]
    [InlineData("")]
    public void MutedUntil_WithoutOffsetOrInvalid_IsNamed(string mutedUntil)
    {
        Assert.False(PreferencesValidator.TryValidate(new NotificationPreferencesUpdate(true, mutedUntil, []), out _, out var errors));
        Assert.Equal(["mutedUntil"], errors.Keys);
    }

    [Fact]
    public void EveryProblem_IsNamedByItsField()
    {
        var update = new NotificationPreferencesUpdate(null, null,
        [
            new PreferenceRuleUpdate("type", "ok", "email", null, null),
            null,
            new PreferenceRuleUpdate("Type", "ok", "email", null, null),
            new PreferenceRuleUpdate("type", new string('k', 101), "sms", null, "later"),
            new PreferenceRuleUpdate("category", " padded", "in_app", null, "digest"),
            new PreferenceRuleUpdate("type", "ok", "email", false, "digest"),
        ]);

        Assert.False(PreferencesValidator.TryValidate(update, out _, out var errors));

        Assert.Equal(
            ["emailEnabled", "rules[1]", "rules[2].scope", "rules[3].channel", "rules[3].deliveryMode", "rules[3].key", "rules[4].deliveryMode", "rules[4].key", "rules[5]"],
            errors.Keys.Order(StringComparer.Ordinal));
        Assert.Contains("rules[0]", errors["rules[5]"][0], StringComparison.Ordinal);
    }

    [Fact]
    public void TooManyRules_IsNamedOnTheList()
    {
        var rules = Enumerable.Range(0, PreferencesValidator.MaximumRules + 1)
            .Select(i => (PreferenceRuleUpdate?)new PreferenceRuleUpdate("type", $"t{i}", "email", true, null)).ToList();

        Assert.False(PreferencesValidator.TryValidate(new NotificationPreferencesUpdate(true, null, rules), out _, out var errors));
        Assert.Equal(["rules"], errors.Keys);
        Assert.True(PreferencesValidator.TryValidate(new NotificationPreferencesUpdate(true, null, rules[..^1]), out _, out _));
    }

    [Fact]
    public void MissingRules_IsNamed()
    {
        Assert.False(PreferencesValidator.TryValidate(new NotificationPreferencesUpdate(true, null, null), out _, out var errors));
        Assert.Equal(["rules"], errors.Keys);
    }
}
