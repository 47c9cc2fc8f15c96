using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Time.Testing;
using Notifications.Domain;
using Notifications.Domain.Persistence;
using Notifications.Scheduler.Cron;
using Notifications.Scheduler.Extensions;
using Npgsql;
using StackExchange.Redis;

namespace Notifications.Scheduler.Tests;

/// <summary>
/// The scheduler's job services with their production registrations (database, Redis, options, alerts, runner) over a
/// database of the test's own, without Quartz: a test runs a job through <see cref="RunAsync"/> at the instant
/// <see cref="Time"/> says.
/// </summary>
internal sealed class CronJobsHost : IAsyncDisposable
{
    /// <summary>A fixed "now" far from the real date, so Redis keys named by day never meet those of a live clock.</summary>
    public static readonly DateTimeOffset DefaultNow = new(2031, 6, 18, 10, 0, 0, TimeSpan.Zero);

    private readonly IHost _host;

    private CronJobsHost(IHost host, string connectionString, FakeTimeProvider time)
    {
        _host = host;
        ConnectionString = connectionString;
        Time = time;
        Data = new SchedulerTestData(connectionString);
    }

    public string ConnectionString { get; }

    public FakeTimeProvider Time { get; }

    public SchedulerTestData Data { get; }

    public IServiceProvider Services => _host.Services;

    public IDatabase Redis => Services.GetRequiredService<IDatabase>();

    /// <param name="connectionString">A database to share with another host; a fresh migrated one when null.</param>
    /// <param name="configure">Replaces registrations after the production ones (e.g. a stub job).</param>
    public static async Task<CronJobsHost> StartAsync(
        TestServers servers,
        IReadOnlyDictionary<string, string?>? settings = null,
        string? connectionString = null,
        DateTimeOffset? now = null,
        Action<IServiceCollection>? configure = null)
    {
        connectionString ??= await TestDatabase.CreateMigratedDatabaseAsync(servers.Postgres);
        var time = new FakeTimeProvider(now ?? DefaultNow);
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { EnvironmentName = "Test" });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            [$"ConnectionStrings:{ResourceNames.Database}"] = connectionString,
            [$"ConnectionStrings:{ResourceNames.Redis}"] = servers.Redis.ConnectionString,
        });
        if (settings is not null)
        {
            builder.Configuration.AddInMemoryCollection(settings);
        }
        builder.AddNpgsqlDbContext<NotificationsDbContext>(ResourceNames.Database);
        builder.AddRedisClient(ResourceNames.Redis);
        builder.AddCronJobs();
        builder.Services.AddSingleton<TimeProvider>(time);
        configure?.Invoke(builder.Services);
        return new CronJobsHost(builder.Build(), connectionString, time);
    }

    public Task<CronRunOutcome> RunAsync(string jobName) =>
        Services.GetRequiredService<CronJobRunner>().RunAsync(jobName, TestContext.Current.CancellationToken);

    /// <summary>Runs the job's service alone (no execution row, no alert), as a second replica's run would.</summary>
    public async Task<CronRunCounts> RunJobOnlyAsync(string jobName)
    {
        await using var scope = Services.CreateAsyncScope();
        var tally = new CronRunTally();
        await scope.ServiceProvider.GetRequiredKeyedService<ICronJob>(jobName).RunAsync(tally, TestContext.Current.CancellationToken);
        return tally.Counts;
    }

    public async Task<T> ScalarAsync<T>(string sql, params (string Name, object Value)[] parameters)
    {
        await using var connection = new NpgsqlConnection(ConnectionString);
        await connection.OpenAsync(TestContext.Current.CancellationToken);
        await using var command = new NpgsqlCommand(sql, connection);
        foreach (var (name, value) in parameters)
        {
            command.Parameters.AddWithValue(name, value);
        }
        return (T)(await command.ExecuteScalarAsync(TestContext.Current.CancellationToken))!;
    }

    public async Task ExecuteAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(ConnectionString);
        await connection.OpenAsync(TestContext.Current.CancellationToken);
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync(TestContext.Current.CancellationToken);
    }

    public ValueTask DisposeAsync() => ((IAsyncDisposable)_host).DisposeAsync();
}
