using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Time.Testing;
using Notifications.Domain;
using Notifications.Domain.Persistence;
using Notifications.Domain.Quota;
using Notifications.EmailWorker.Delivery;
using StackExchange.Redis;

namespace Notifications.EmailWorker.Tests.Email;

/// <summary>
/// The email channel's services registered as the worker registers them (service defaults, Postgres, Redis, webhook
/// alerts, <c>AddEmailChannel</c>), started, with its own Redis connection: several hosts side by side are several
/// workers. The clock is the test's.
/// </summary>
internal sealed class EmailChannelHost : IAsyncDisposable
{
    public const string PublicBaseUrl = "https://notifications.test/";
    public const string SigningKey = "email-worker-tests-unsubscribe-signing-key-0123456789";

    private readonly IHost _host;

    private EmailChannelHost(IHost host) => _host = host;

    public IServiceProvider Services => _host.Services;

    public IChannelDeliverer Deliverer => Services.GetServices<IChannelDeliverer>().Single(deliverer => deliverer.Channel == Domain.Model.DeliveryChannel.Email);

    public EmailQuota Quota => Services.GetRequiredService<EmailQuota>();

    public IDatabase Redis => Services.GetRequiredService<IDatabase>();

    public static async Task<EmailChannelHost> StartAsync(
        TestServers servers,
        TimeProvider clock,
        Dictionary<string, string?>? settings = null,
        string environment = "Development")
    {
        var host = Build(servers, clock, settings, environment);
        await host.StartAsync(TestContext.Current.CancellationToken);
        return new EmailChannelHost(host);
    }

    /// <summary>The host, not started: starting validates the options.</summary>
    public static IHost Build(
        TestServers servers,
        TimeProvider clock,
        Dictionary<string, string?>? settings = null,
        string environment = "Development")
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings
        {
            EnvironmentName = environment,
            DisableDefaults = true,
        });
        var configuration = new Dictionary<string, string?>
        {
            [$"ConnectionStrings:{ResourceNames.Database}"] = servers.DatabaseConnectionString,
            [$"ConnectionStrings:{ResourceNames.Redis}"] = servers.Redis.ConnectionString,
            ["Email:PublicBaseUrl"] = PublicBaseUrl,
            ["Email:Unsubscribe:SigningKey"] = SigningKey,
        };
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
        {
            configuration[key] = value;
        }
        builder.Configuration.AddInMemoryCollection(configuration);
        builder.AddServiceDefaults();
        builder.AddNpgsqlDbContext<NotificationsDbContext>(ResourceNames.Database);
        builder.AddRedisClient(ResourceNames.Redis);
        builder.AddWebhookAlerts();
        builder.AddEmailChannel();
        builder.Services.AddSingleton(clock);
        return builder.Build();
    }

    /// <summary>A clock at noon on the 15th of a month no earlier test used, so quota counters and locks start empty.</summary>
    public static FakeTimeProvider FreshMonthClock()
    {
        var month = Interlocked.Increment(ref _months);
        return new FakeTimeProvider(new DateTimeOffset(2300, 1, 15, 12, 0, 0, TimeSpan.Zero).AddMonths(month));
    }

    private static int _months;

    public async ValueTask DisposeAsync()
    {
        await _host.StopAsync(CancellationToken.None);
        _host.Dispose();
    }
}
