using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using Notifications.Api.Outbox;
using Notifications.Domain;
using Notifications.Domain.Persistence;

namespace Notifications.IntegrationTests.Api.Outbox;

/// <summary>A host running only the outbox relay, registered as the API registers it.</summary>
internal sealed class OutboxRelayHost(IHost host) : IAsyncDisposable
{
    public static async Task<OutboxRelayHost> StartAsync(
        string databaseConnectionString, string redisConnectionString, TimeSpan pollInterval, int batchSize = 100)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            [$"ConnectionStrings:{ResourceNames.Database}"] = databaseConnectionString,
            [$"ConnectionStrings:{ResourceNames.Redis}"] = redisConnectionString,
            [$"{OutboxRelayOptions.SectionName}:{nameof(OutboxRelayOptions.PollInterval)}"] = pollInterval.ToString("c"),
            [$"{OutboxRelayOptions.SectionName}:{nameof(OutboxRelayOptions.BatchSize)}"] = batchSize.ToString(),
        });
        builder.AddNpgsqlDbContext<NotificationsDbContext>(ResourceNames.Database);
        builder.AddRedisClient(ResourceNames.Redis);
        builder.AddOutboxRelay();
        var host = builder.Build();
        await host.StartAsync(TestContext.Current.CancellationToken);
        return new OutboxRelayHost(host);
    }

    public IServiceProvider Services => host.Services;

    public async ValueTask DisposeAsync()
    {
        await host.StopAsync(CancellationToken.None);
        host.Dispose();
    }
}
