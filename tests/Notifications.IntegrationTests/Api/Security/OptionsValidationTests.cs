using Notifications.Api.Security;

namespace Notifications.IntegrationTests.Api.Security;

/// <summary>
/// A bad setting stops the API at start-up with a message naming it (no Redis or database needed: options are
/// validated before the schema check and before anything connects).
/// </summary>
/// <remarks>
/// The message is read from the host's error log: when start fails, WebApplicationFactory sometimes reports the
/// host's disposal (ObjectDisposedException) instead of the start-up exception.
/// </remarks>
public sealed class OptionsValidationTests
{
    private const string UnusedRedis = "127.0.0.1:1";
    private const string UnusedDatabase = "Host=127.0.0.1;Port=1;Database=unused;Username=unused";

    [Theory]
    [InlineData("Authentication:Jwt:SigningKey", "", "Authentication:Jwt:SigningKey is required")]
    [InlineData("Authentication:Jwt:SigningKey", "too-short", "Authentication:Jwt:SigningKey is 9 bytes long")]
    [InlineData("Authentication:Jwt:SigningKey", JwtOptions.PublishedDevelopmentSigningKey, "Authentication:Jwt:SigningKey is the published development key")]
    [InlineData("Authentication:Jwt:Issuer", "", "Authentication:Jwt:Issuer is required")]
    [InlineData("RateLimiting:PermitsPerWindow", "0", "RateLimiting:PermitsPerWindow must be at least 1")]
    [InlineData("RateLimiting:Window", "00:00:00", "RateLimiting:Window must be between")]
    [InlineData("RateLimiting:Window", "a minute", "RateLimiting:Window")]
    [InlineData("Outbox:BatchSize", "0", "Outbox:BatchSize must be between 1 and 10000")]
    [InlineData("Outbox:PollInterval", "00:00:00", "Outbox:PollInterval must be between")]
    [InlineData("Realtime:HeartbeatInterval", "00:00:00", "Realtime:HeartbeatInterval must be between")]
    [InlineData("Realtime:StreamTokenLifetime", "02:00:00", "Realtime:StreamTokenLifetime must be between")]
    [InlineData("Ably:ApiKey", "not-an-ably-key", "Ably:ApiKey must be of the form appId.keyId:secret")]
    [InlineData("Ably:RestUrl", "rest.ably.io", "Ably:RestUrl must be an absolute http(s) URL")]
    [InlineData("Email:Unsubscribe:SigningKey", "", "Email:Unsubscribe:SigningKey is required")]
    [InlineData("Email:Unsubscribe:SigningKey", "notifications-development-unsubscribe-key-not-secret-0123456789", "Email:Unsubscribe:SigningKey is the published development key")]
    public async Task Start_InProductionWithABadSetting_FailsNamingTheSetting(string key, string value, string expectedMessage)
    {
        var settings = SecurityApiFactory.ProductionJwtSettings();
        settings[key] = value;
        await using var api = new SecurityApiFactory(UnusedRedis, UnusedDatabase, "Production", settings);

        Assert.ThrowsAny<Exception>(() => api.CreateClient());

        Assert.Contains(expectedMessage, api.LoggedErrors);
    }

    [Fact]
    public async Task Start_InProductionWithoutAnyJwtSettings_FailsNamingEachMissingSetting()
    {
        await using var api = new SecurityApiFactory(UnusedRedis, UnusedDatabase, "Production");

        Assert.ThrowsAny<Exception>(() => api.CreateClient());

        var messages = api.LoggedErrors;
        Assert.Contains("Authentication:Jwt:Issuer", messages);
        Assert.Contains("Authentication:Jwt:Audience", messages);
        Assert.Contains("Authentication:Jwt:SigningKey", messages);
    }
}
