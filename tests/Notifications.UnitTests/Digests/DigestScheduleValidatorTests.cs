using Notifications.Domain.Digests;
using Notifications.Domain.Model;

namespace Notifications.UnitTests.Digests;

public sealed class DigestScheduleValidatorTests
{
    private static readonly DigestScheduleInput ValidWeekly = new("weekly", "09:00", 1, "Europe/Berlin", 10);

    [Fact]
    public void Valid_input_yields_a_cadence_and_the_requested_max_items()
    {
        var result = DigestScheduleValidator.Validate(ValidWeekly);

        Assert.True(result.IsValid);
        Assert.Empty(result.Errors);
        Assert.Equal(new DigestCadence(DigestFrequency.Weekly, new TimeOnly(9, 0), 1, "Europe/Berlin"), result.Cadence);
        Assert.Equal(10, result.MaxItems);
    }

    [Fact]
    public void Missing_max_items_defaults_to_20()
    {
        var result = DigestScheduleValidator.Validate(ValidWeekly with { MaxItems = null });

        Assert.True(result.IsValid);
        Assert.Equal(20, result.MaxItems);
    }

    [Fact]
    public void Frequency_is_case_insensitive_and_time_zone_id_is_canonicalised()
    {
        var result = DigestScheduleValidator.Validate(ValidWeekly with { Frequency = "Weekly", TimeZone = "europe/berlin" });

        Assert.True(result.IsValid);
        Assert.Equal(DigestFrequency.Weekly, result.Cadence.Frequency);
        Assert.Equal("Europe/Berlin", result.Cadence.TimeZoneId);
    }

    [Theory]
    [InlineData("hourly")]
    [InlineData("1")]
    [InlineData("")]
    [InlineData(null)]
    public void Unknown_or_missing_frequency_names_the_frequency_field(string? frequency)
    {
        var result = DigestScheduleValidator.Validate(ValidWeekly with { Frequency = frequency });

        Assert.False(result.IsValid);
        Assert.Equal(DigestScheduleFields.Frequency, Assert.Single(result.Errors).Field);
    }

    [Theory]
    [InlineData("daily", 1)]
    [InlineData("weekly", null)]
    [InlineData("weekly", 0)]
    [InlineData("weekly", 8)]
    [InlineData("monthly", null)]
    [InlineData("monthly", 0)]
    [InlineData("monthly", 32)]
    public void Delivery_day_outside_the_frequencys_range_names_the_delivery_day_field(string frequency, int? deliveryDay)
    {
        var result = DigestScheduleValidator.Validate(ValidWeekly with { Frequency = frequency, DeliveryDay = deliveryDay });

        Assert.False(result.IsValid);
        Assert.Equal(DigestScheduleFields.DeliveryDay, Assert.Single(result.Errors).Field);
    }

    [Theory]
    [InlineData("daily", null)]
    [InlineData("weekly", 1)]
    [InlineData("weekly", 7)]
    [InlineData("monthly", 1)]
    [InlineData("monthly", 31)]
    public void Delivery_day_at_the_edges_of_the_frequencys_range_is_accepted(string frequency, int? deliveryDay)
    {
        var result = DigestScheduleValidator.Validate(ValidWeekly with { Frequency = frequency, DeliveryDay = deliveryDay });

        Assert.True(result.IsValid);
        Assert.Equal(deliveryDay, result.Cadence.DeliveryDay);
    }

    [Fact]
    public void Delivery_day_is_not_checked_when_the_frequency_is_unknown()
    {
        var result = DigestScheduleValidator.Validate(ValidWeekly with { Frequency = "hourly", DeliveryDay = 99 });

        Assert.Equal([DigestScheduleFields.Frequency], result.Errors.Select(error => error.Field));
    }

    [Theory]
    [InlineData("24:00")]
    [InlineData("12:60")]
    [InlineData("9am")]
    [InlineData("09:00:00.5")]
    [InlineData("")]
    [InlineData(null)]
    public void Invalid_or_missing_delivery_time_names_the_delivery_time_field(string? deliveryTime)
    {
        var result = DigestScheduleValidator.Validate(ValidWeekly with { DeliveryTime = deliveryTime });

        Assert.False(result.IsValid);
        Assert.Equal(DigestScheduleFields.DeliveryTime, Assert.Single(result.Errors).Field);
    }

    [Theory]
    [InlineData("00:00", 0, 0, 0)]
    [InlineData("9:05", 9, 5, 0)]
    [InlineData("23:59:59", 23, 59, 59)]
    public void Delivery_time_accepts_hours_and_minutes_with_optional_seconds(string deliveryTime, int hour, int minute, int second)
    {
        var result = DigestScheduleValidator.Validate(ValidWeekly with { DeliveryTime = deliveryTime });

        Assert.True(result.IsValid);
        Assert.Equal(new TimeOnly(hour, minute, second), result.Cadence.DeliveryTime);
    }

    [Theory]
    [InlineData("Mars/Olympus_Mons")]
    [InlineData("Europe/")]
    [InlineData("../../etc/passwd")]
    [InlineData(" Europe/Berlin")]
    [InlineData("")]
    [InlineData(null)]
    public void Unknown_or_missing_time_zone_names_the_time_zone_field(string? timeZone)
    {
        var result = DigestScheduleValidator.Validate(ValidWeekly with { TimeZone = timeZone });

        Assert.False(result.IsValid);
        Assert.Equal(DigestScheduleFields.TimeZone, Assert.Single(result.Errors).Field);
    }

    [Fact]
    public void Windows_time_zone_id_is_rejected_with_the_iana_id_to_use_instead()
    {
        var result = DigestScheduleValidator.Validate(ValidWeekly with { TimeZone = "Eastern Standard Time" });

        var error = Assert.Single(result.Errors);
        Assert.Equal(DigestScheduleFields.TimeZone, error.Field);
        Assert.Contains("America/New_York", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    [InlineData(101)]
    public void Max_items_outside_1_to_100_names_the_max_items_field(int maxItems)
    {
        var result = DigestScheduleValidator.Validate(ValidWeekly with { MaxItems = maxItems });

        Assert.False(result.IsValid);
        Assert.Equal(DigestScheduleFields.MaxItems, Assert.Single(result.Errors).Field);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(100)]
    public void Max_items_at_the_edges_of_1_to_100_is_accepted(int maxItems)
    {
        var result = DigestScheduleValidator.Validate(ValidWeekly with { MaxItems = maxItems });

        Assert.True(result.IsValid);
        Assert.Equal(maxItems, result.MaxItems);
    }

    [Fact]
    public void Every_invalid_field_is_reported_and_grouped_by_field()
    {
        var result = DigestScheduleValidator.Validate(new DigestScheduleInput("monthly", "25:00", 0, "Nowhere/City", 500));

        Assert.False(result.IsValid);
        Assert.Null(result.Cadence);
        Assert.Equal(
            [DigestScheduleFields.DeliveryTime, DigestScheduleFields.DeliveryDay, DigestScheduleFields.TimeZone, DigestScheduleFields.MaxItems],
            result.ErrorsByField().Keys);
        Assert.All(result.ErrorsByField().Values, messages => Assert.NotEmpty(Assert.Single(messages)));
    }

    [Fact]
    public void Field_names_match_the_apis_camel_case_json()
    {
        Assert.Equal(
            ["frequency", "deliveryTime", "deliveryDay", "timeZone", "maxItems"],
            [DigestScheduleFields.Frequency, DigestScheduleFields.DeliveryTime, DigestScheduleFields.DeliveryDay, DigestScheduleFields.TimeZone, DigestScheduleFields.MaxItems]);
    }
}
