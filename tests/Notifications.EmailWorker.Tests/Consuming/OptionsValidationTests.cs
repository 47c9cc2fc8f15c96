using Notifications.Domain.Realtime;
using Notifications.EmailWorker.Consuming;

namespace Notifications.EmailWorker.Tests.Consuming;

public sealed class OptionsValidationTests
{
    [Fact]
    public void WorkerDefaults_AreValid() =>
        Assert.True(new WorkerOptionsValidator().Validate(null, new WorkerOptions()).Succeeded);

    [Fact]
    public void WorkerOptions_EveryBadValueIsNamed()
    {
        var options = new WorkerOptions
        {
            BatchSize = 0,
            ReadBlockTime = TimeSpan.FromMinutes(1),
            MaxConcurrency = 0,
            SendRateLimit = -1,
            MaxAttempts = 0,
            ReclaimInterval = TimeSpan.Zero,
            IdleConsumerRemoval = TimeSpan.Zero,
            Channels = { ["push"] = new ChannelConsumerOptions { MaxConcurrency = 2 }, ["email"] = new ChannelConsumerOptions { SendRateLimit = -5 } },
            CircuitBreaker = { FailureRatio = 0, MinimumThroughput = 0, BreakDuration = TimeSpan.Zero },
        };

        var result = new WorkerOptionsValidator().Validate(null, options);

        Assert.True(result.Failed);
        foreach (var key in new[]
        {
            "Worker:BatchSize", "Worker:ReadBlockTime", "Worker:MaxConcurrency", "Worker:SendRateLimit", "Worker:MaxAttempts",
            "Worker:ReclaimInterval", "Worker:IdleConsumerRemoval", "Worker:Channels:push is not a channel", "Worker:Channels:email:SendRateLimit",
            "Worker:CircuitBreaker:FailureRatio", "Worker:CircuitBreaker:MinimumThroughput", "Worker:CircuitBreaker:BreakDuration",
        })
        {
            Assert.Contains(result.Failures!, failure => failure.StartsWith(key, StringComparison.Ordinal));
        }
    }

    [Theory]
    [InlineData(null, true)]
    [InlineData("appid.keyid:secret", true)]
    [InlineData("appid.keyid:se:cr.et", true)]
    [InlineData("appid:secret", false)]
    [InlineData("appid.keyid", false)]
    [InlineData("appid.keyid:", false)]
    [InlineData("app id.keyid:secret", false)]
    public void AblyApiKey_MustHaveAblysShape(string? apiKey, bool valid)
    {
        var result = new AblyOptionsValidator().Validate(null, new AblyOptions { ApiKey = apiKey });

        Assert.Equal(valid, result.Succeeded);
        if (!valid)
        {
            Assert.DoesNotContain(apiKey!, result.FailureMessage);
        }
    }

    [Theory]
    [InlineData("ftp://rest.ably.io")]
    [InlineData("/relative")]
    public void AblyRestUrl_MustBeAbsoluteHttp(string url)
    {
        var result = new AblyOptionsValidator().Validate(null, new AblyOptions { RestUrl = url });

        Assert.Contains("Ably:RestUrl", result.FailureMessage);
    }
}
