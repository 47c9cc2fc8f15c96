using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Notifications.Domain;
using Notifications.Domain.Persistence;

namespace Notifications.EmailWorker.Tests.Support;

/// <summary>
/// A worker host registered the way the worker registers itself (database and Redis clients, the delivery consumer,
/// optionally the in-app channel), with test settings and, usually, a scripted deliverer for the email channel.
/// </summary>
internal sealed class WorkerHost : IAsyncDisposable
{
    private readonly IHost _host;
    private bool _stopped;

    private WorkerHost(IHost host, LogSink logs)
    {
        _host = host;
        Logs = logs;
    }

    public LogSink Logs { get; }

    public IServiceProvider Services => _host.Services;

    /// <summary>Fast-moving defaults for tests: short blocking reads, frequent reclaim passes, no send rate limit.</summary>
    public static Dictionary<string, string?> DefaultSettings() => new()
    {
        ["Worker:ReadBlockTime"] = "00:00:00.200",
        ["Worker:ReclaimInterval"] = "00:00:00.200",
        ["Worker:SendRateLimit"] = "0",
        ["Worker:RetryBaseDelay"] = "00:00:00.010",
    };

    public static async Task<WorkerHost> StartAsync(
        string databaseConnectionString,
        string redisConnectionString,
        IReadOnlyDictionary<string, string?>? settings = null,
        Action<IServiceCollection>? configureServices = null,
        bool inAppChannel = false,
        TimeSpan? shutdownTimeout = null)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        var configuration = DefaultSettings();
        configuration[$"ConnectionStrings:{ResourceNames.Database}"] = databaseConnectionString;
        configuration[$"ConnectionStrings:{ResourceNames.Redis}"] = redisConnectionString;
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
        {
            configuration[key] = value;
        }
        builder.Configuration.AddInMemoryCollection(configuration);
        var logs = new LogSink();
        builder.Logging.AddProvider(logs).SetMinimumLevel(LogLevel.Debug);
        builder.Services.Configure<HostOptions>(options => options.ShutdownTimeout = shutdownTimeout ?? TimeSpan.FromSeconds(30));

        builder.AddNpgsqlDbContext<NotificationsDbContext>(ResourceNames.Database);
        builder.AddRedisClient(ResourceNames.Redis);
        builder.AddDeliveryConsumer();
        if (inAppChannel)
        {
            builder.AddInAppChannel();
        }
        configureServices?.Invoke(builder.Services);

        var host = builder.Build();
        try
        {
            await host.StartAsync(TestContext.Current.CancellationToken);
        }
        catch
        {
            host.Dispose();
            throw;
        }
        return new WorkerHost(host, logs);
    }

    /// <summary>Stops like the host does on SIGTERM: reading stops, attempts in flight finish within the shutdown timeout.</summary>
    public async Task StopAsync()
    {
        if (!_stopped)
        {
            _stopped = true;
            await _host.StopAsync(CancellationToken.None);
        }
    }

    /// <summary>Stops at once, as if the shutdown timeout had already run out: attempts in flight are abandoned, unacknowledged.</summary>
    public async Task KillAsync()
    {
        if (!_stopped)
        {
            _stopped = true;
            await _host.StopAsync(new CancellationToken(canceled: true));
        }
    }

    public Task<HealthReport> CheckHealthAsync() =>
        _host.Services.GetRequiredService<HealthCheckService>().CheckHealthAsync(TestContext.Current.CancellationToken);

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        _host.Dispose();
    }
}
