using System.Text.Json;
using Notifications.Api.Realtime;
using Notifications.Domain.Realtime;

namespace Notifications.UnitTests.Realtime;

public sealed class AblyTokenRequestsTests
{
    [Fact]
    public void Mac_MatchesAnHmacComputedIndependently()
    {
        // printf 'appId.keyId\n3600000\n{"notifications:user-1":["subscribe"]}\nuser-1\n1700000000000\n0123456789abcdef0123456789abcdef\n' \
        //   | openssl dgst -sha256 -hmac 'the-key-secret' -binary | base64
        const string expected = "JFCoZhrGPZ6Ez/4NH33rF4fbd1IoBRGgh0qNHzFunyk=";

        var mac = AblyTokenRequests.Mac("the-key-secret", "appId.keyId", 3_600_000, """{"notifications:user-1":["subscribe"]}""",
            "user-1", 1_700_000_000_000, "0123456789abcdef0123456789abcdef");

        Assert.Equal(expected, mac);
    }

    [Fact]
    public void Create_SignsWhatItReturnsWithTtlAndTimestampInMilliseconds()
    {
        var now = new DateTimeOffset(2023, 11, 14, 22, 13, 20, TimeSpan.Zero);

        var request = AblyTokenRequests.Create("appId.keyId", "the-key-secret", "user-1", TimeSpan.FromHours(1), now);

        Assert.Equal("appId.keyId", request.KeyName);
        Assert.Equal(3_600_000, request.Ttl);
        Assert.Equal(1_700_000_000_000, request.Timestamp);
        Assert.Equal("user-1", request.ClientId);
        Assert.Equal("""{"notifications:user-1":["subscribe"]}""", request.Capability);
        Assert.Matches("^[0-9a-f]{32}$", request.Nonce);
        Assert.Equal(
            AblyTokenRequests.Mac("the-key-secret", request.KeyName, request.Ttl, request.Capability, request.ClientId, request.Timestamp, request.Nonce),
            request.Mac);
    }

    [Fact]
    public void Create_UsesAFreshNonceEachTime()
    {
        var now = DateTimeOffset.UtcNow;

        var nonces = Enumerable.Range(0, 20).Select(_ => AblyTokenRequests.Create("a.b", "s", "u", TimeSpan.FromHours(1), now).Nonce);

        Assert.Equal(20, nonces.Distinct().Count());
    }

    [Theory]
    [InlineData("user-1")]
    [InlineData("a*b?c")]
    [InlineData("quote\"and:colon")]
    public void Capability_GrantsOnlySubscribeOnTheCallersOwnChannel(string userId)
    {
        var capability = JsonDocument.Parse(AblyTokenRequests.Capability(userId)).RootElement;

        var channel = Assert.Single(capability.EnumerateObject());
        Assert.Equal($"notifications:{userId}", channel.Name);
        Assert.Equal(["subscribe"], channel.Value.EnumerateArray().Select(operation => operation.GetString()));
    }

    [Theory]
    [InlineData("appId.keyId:secret", true, "appId.keyId", "secret")]
    [InlineData("xVLyHw.LFs7jA:Ab+/c=d:e", true, "xVLyHw.LFs7jA", "Ab+/c=d:e")]
    [InlineData("appId.keyId", false, "", "")]
    [InlineData("appIdkeyId:secret", false, "", "")]
    [InlineData("appId.keyId:", false, "", "")]
    [InlineData(".keyId:secret", false, "", "")]
    [InlineData("app Id.keyId:secret", false, "", "")]
    public void TryParseApiKey_SplitsNameAndSecret(string apiKey, bool valid, string name, string secret)
    {
        Assert.Equal(valid, AblyOptions.TryParseApiKey(apiKey, out var keyName, out var keySecret));
        Assert.Equal(name, keyName);
        Assert.Equal(secret, keySecret);
    }

    [Fact]
    public void Validator_BadKey_FailsNamingTheSettingWithoutEchoingTheSecret()
    {
        var result = new AblyOptionsValidator().Validate(null, new AblyOptions { ApiKey = "no-dot:super-secret-value" });

        var failure = Assert.Single(result.Failures!);
        Assert.Contains("Ably:ApiKey", failure, StringComparison.Ordinal);
        Assert.DoesNotContain("super-secret-value", failure, StringComparison.Ordinal);
    }

    [Fact]
    public void Validator_Unconfigured_SucceedsWithDefaults()
    {
        var options = new AblyOptions();

        Assert.True(new AblyOptionsValidator().Validate(null, options).Succeeded);
        Assert.False(options.IsConfigured);
        Assert.Equal("https://rest.ably.io", options.RestUrl);
    }

    [Theory]
    [InlineData("ftp://rest.ably.io", "00:10:00", "Ably:RestUrl")]
    [InlineData("rest.ably.io", "00:10:00", "Ably:RestUrl")]
    [InlineData("https://rest.ably.io", "00:00:30", "Ably:TokenTtl")]
    [InlineData("https://rest.ably.io", "1.00:00:01", "Ably:TokenTtl")]
    public void Validator_BadRestUrlOrTtl_FailsNamingTheSetting(string restUrl, string ttl, string setting)
    {
        var options = new AblyOptions { ApiKey = "appId.keyId:secret", RestUrl = restUrl, TokenTtl = TimeSpan.Parse(ttl, System.Globalization.CultureInfo.InvariantCulture) };

        Assert.StartsWith(setting, Assert.Single(new AblyOptionsValidator().Validate(null, options).Failures!), StringComparison.Ordinal);
    }
}
