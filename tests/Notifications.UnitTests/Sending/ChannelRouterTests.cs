using Notifications.Api.Sending;
using Notifications.Domain.Model;

namespace Notifications.UnitTests.Sending;

public sealed class ChannelRouterTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 24, 12, 0, 0, TimeSpan.Zero);
    private static readonly Recipient Ada = new("ada", "ada@example.test", EmailEnabled: true, MutedUntil: null);

    [Fact]
    public void Plan_NoRules_QueuesEveryRequestedChannelAtTheGivenPriority()
    {
        var plan = ChannelRouter.Plan(Draft(), Ada, [], criticalType: false, Now);

        Assert.Equal(NotificationPriority.High, plan.Priority);
        Assert.Equal([new PlannedJob(DeliveryChannel.InApp, DeliveryJobStatus.Queued), new PlannedJob(DeliveryChannel.Email, DeliveryJobStatus.Queued)], plan.Jobs);
        Assert.Empty(plan.Skipped);
    }

    [Fact]
    public void Plan_CriticalPriority_StillHonoursAChannelTheUserTurnedOff()
    {
        var rules = new[] { new PreferenceRule(PreferenceScope.Type, "comment.created", DeliveryChannel.Email, Enabled: false, DeliveryMode.Immediate) };

        var plan = ChannelRouter.Plan(Draft(NotificationPriority.Critical), Ada, rules, criticalType: false, Now);

        Assert.Equal([new PlannedJob(DeliveryChannel.InApp, DeliveryJobStatus.Queued)], plan.Jobs);
        Assert.Equal([new SkippedChannel("email", ChannelRouter.DisabledByPreference)], plan.Skipped);
    }

    [Fact]
    public void Plan_CriticalType_RaisesThePriorityToCritical()
    {
        var plan = ChannelRouter.Plan(Draft(NotificationPriority.Low), Ada, [], criticalType: true, Now);

        Assert.Equal(NotificationPriority.Critical, plan.Priority);
    }

    [Fact]
    public void Plan_MuteThatHasEnded_DoesNotSkipEmail()
    {
        var plan = ChannelRouter.Plan(Draft(), Ada with { MutedUntil = Now }, [], criticalType: false, Now);

        Assert.Contains(new PlannedJob(DeliveryChannel.Email, DeliveryJobStatus.Queued), plan.Jobs);
    }

    [Fact]
    public void Plan_DigestRuleOnTheCategory_AppliesOnlyToEmail()
    {
        var rules = new[]
        {
            new PreferenceRule(PreferenceScope.Category, "social", DeliveryChannel.Email, Enabled: true, DeliveryMode.Digest),
            new PreferenceRule(PreferenceScope.Category, "other", DeliveryChannel.InApp, Enabled: false, DeliveryMode.Immediate),
        };

        var plan = ChannelRouter.Plan(Draft(), Ada, rules, criticalType: false, Now);

        Assert.Equal([new PlannedJob(DeliveryChannel.InApp, DeliveryJobStatus.Queued), new PlannedJob(DeliveryChannel.Email, DeliveryJobStatus.DigestPending)], plan.Jobs);
    }

    private static NotificationDraft Draft(NotificationPriority priority = NotificationPriority.High) =>
        new("ada", "comment.created", "social", priority, "Title", "Body", "{}", [DeliveryChannel.InApp, DeliveryChannel.Email]);
}
