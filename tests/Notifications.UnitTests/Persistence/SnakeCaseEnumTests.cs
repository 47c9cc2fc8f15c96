using Notifications.Domain.Model;
using Notifications.Domain.Persistence;

namespace Notifications.UnitTests.Persistence;

public sealed class SnakeCaseEnumTests
{
    [Theory]
    [InlineData("InApp", "in_app")]
    [InlineData("DigestPending", "digest_pending")]
    [InlineData("Sent", "sent")]
    [InlineData("HttpStatusCode", "http_status_code")]
    [InlineData("DurationMs", "duration_ms")]
    [InlineData("TraceParent", "trace_parent")]
    [InlineData("HTTPStatus", "http_status")]
    public void FromPascalCase_ConvertsToTheDatabaseNamingRule(string name, string expected) =>
        Assert.Equal(expected, SnakeCase.FromPascalCase(name));

    [Fact]
    public void DeliveryJobStatus_StoredNames_AreTheDocumentedStatuses() =>
        Assert.Equal(
            ["pending", "queued", "processing", "sent", "failed", "cancelled", "deferred", "digest_pending", "digested"],
            SnakeCaseEnum<DeliveryJobStatus>.AllNames);

    [Fact]
    public void Converter_RoundTripsEveryValue()
    {
        var converter = new SnakeCaseEnumConverter<DeliveryChannel>();
        foreach (var channel in Enum.GetValues<DeliveryChannel>())
        {
            var stored = (string)converter.ConvertToProvider(channel)!;
            Assert.Equal(channel, converter.ConvertFromProvider(stored));
        }
    }

    [Fact]
    public void FromName_UnknownStoredValue_FailsNamingTheValueAndEnum()
    {
        var error = Assert.Throws<InvalidOperationException>(() => SnakeCaseEnum<DeliveryChannel>.FromName("carrier_pigeon"));

        Assert.Contains("carrier_pigeon", error.Message);
        Assert.Contains(nameof(DeliveryChannel), error.Message);
    }
}
