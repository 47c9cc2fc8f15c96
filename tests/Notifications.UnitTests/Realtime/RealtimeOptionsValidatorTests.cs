using Notifications.Api.Realtime;

namespace Notifications.UnitTests.Realtime;

public sealed class RealtimeOptionsValidatorTests
{
    [Fact]
    public void Defaults_AreValidWith15SecondHeartbeatsAnd5MinuteStreamTokens()
    {
        var options = new RealtimeOptions();

        Assert.True(new RealtimeOptionsValidator().Validate(null, options).Succeeded);
        Assert.Equal(TimeSpan.FromSeconds(15), options.HeartbeatInterval);
        Assert.Equal(TimeSpan.FromMinutes(5), options.StreamTokenLifetime);
    }

    [Theory]
    [InlineData("00:00:00", "00:05:00", 256, "Realtime:HeartbeatInterval")]
    [InlineData("00:11:00", "00:05:00", 256, "Realtime:HeartbeatInterval")]
    [InlineData("00:00:15", "00:00:05", 256, "Realtime:StreamTokenLifetime")]
    [InlineData("00:00:15", "01:00:01", 256, "Realtime:StreamTokenLifetime")]
    [InlineData("00:00:15", "00:05:00", 0, "Realtime:StreamBufferSize")]
    public void BadSetting_FailsNamingIt(string heartbeat, string tokenLifetime, int bufferSize, string setting)
    {
        var options = new RealtimeOptions
        {
            HeartbeatInterval = TimeSpan.Parse(heartbeat, System.Globalization.CultureInfo.InvariantCulture),
            StreamTokenLifetime = TimeSpan.Parse(tokenLifetime, System.Globalization.CultureInfo.InvariantCulture),
            StreamBufferSize = bufferSize,
        };

        Assert.StartsWith(setting, Assert.Single(new RealtimeOptionsValidator().Validate(null, options).Failures!), StringComparison.Ordinal);
    }
}
