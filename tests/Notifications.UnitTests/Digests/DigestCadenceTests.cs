using Notifications.Domain.Digests;
using Notifications.Domain.Model;

namespace Notifications.UnitTests.Digests;

public sealed class DigestCadenceTests
{
    [Fact]
    public void Rejects_a_delivery_day_the_frequency_does_not_allow()
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => new DigestCadence(DigestFrequency.Weekly, new TimeOnly(9, 0), 8, "Europe/Berlin"));

        Assert.Equal("deliveryDay", error.ParamName);
    }

    [Fact]
    public void Rejects_an_unknown_time_zone()
    {
        var error = Assert.Throws<ArgumentException>(() => new DigestCadence(DigestFrequency.Daily, new TimeOnly(9, 0), null, "Nowhere/City"));

        Assert.Equal("timeZoneId", error.ParamName);
        Assert.Contains("Nowhere/City", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Rejects_an_undefined_frequency()
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => new DigestCadence((DigestFrequency)42, new TimeOnly(9, 0), null, "Europe/Berlin"));

        Assert.Equal("frequency", error.ParamName);
    }

    [Fact]
    public void Cadences_with_the_same_rule_are_equal()
    {
        Assert.Equal(
            new DigestCadence(DigestFrequency.Monthly, new TimeOnly(9, 0), 31, "Europe/Berlin"),
            new DigestCadence(DigestFrequency.Monthly, new TimeOnly(9, 0), 31, "europe/berlin"));
    }
}
