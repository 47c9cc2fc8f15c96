using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Notifications.Domain.Model;
using Notifications.EmailWorker.Delivery;
using Notifications.EmailWorker.Tests.Support;

namespace Notifications.EmailWorker.Tests.Consuming;

[Collection(WorkerTestCollection.Name)]
public sealed class StartupTests(TestServers servers)
{
    [Theory]
    [InlineData("Worker:BatchSize", "0", "Worker:BatchSize")]
    [InlineData("Worker:MaxAttempts", "0", "Worker:MaxAttempts")]
    [InlineData("Worker:Lease", "00:00:00.100", "Worker:Lease")]
    [InlineData("Worker:RetryBaseDelay", "00:01:00", "Worker:RetryMaxDelay")]
    [InlineData("Worker:Channels:sms:SendRateLimit", "5", "Worker:Channels:sms")]
    [InlineData("Worker:Channels:email:MaxConcurrency", "0", "Worker:Channels:email:MaxConcurrency")]
    [InlineData("Worker:CircuitBreaker:FailureRatio", "1.5", "Worker:CircuitBreaker:FailureRatio")]
    public async Task BadSetting_StopsStartUp_NamingTheSetting(string key, string value, string named)
    {
        var exception = await Assert.ThrowsAsync<OptionsValidationException>(() => WorkerHost.StartAsync(
            servers.DatabaseConnectionString, servers.Redis.ConnectionString, new Dictionary<string, string?> { [key] = value }));

        Assert.Contains(named, exception.Message);
    }

    [Fact]
    public async Task TwoDeliverersForOneChannel_StopStartUp()
    {
        var exception = await Assert.ThrowsAsync<InvalidOperationException>(() => WorkerHost.StartAsync(
            servers.DatabaseConnectionString, servers.Redis.ConnectionString,
            configureServices: services =>
            {
                services.AddSingleton<IChannelDeliverer>(ScriptedDeliverer.Succeeding());
                services.AddSingleton<IChannelDeliverer>(ScriptedDeliverer.Succeeding());
            }));

        Assert.Contains("2 deliverers are registered for the email channel", exception.Message);
    }

    [Fact]
    public async Task ChannelOverride_AppliesToItsChannelOnly()
    {
        await using var host = await WorkerHost.StartAsync(
            servers.DatabaseConnectionString, servers.Redis.ConnectionString,
            new Dictionary<string, string?> { ["Worker:MaxConcurrency"] = "7", ["Worker:Channels:in_app:MaxConcurrency"] = "3" });

        var options = host.Services.GetRequiredService<IOptions<Notifications.EmailWorker.Consuming.WorkerOptions>>().Value;
        Assert.Equal(3, options.MaxConcurrencyFor(DeliveryChannel.InApp));
        Assert.Equal(7, options.MaxConcurrencyFor(DeliveryChannel.Email));
        Assert.Equal(0, options.SendRateLimitFor(DeliveryChannel.Email));
    }
}
