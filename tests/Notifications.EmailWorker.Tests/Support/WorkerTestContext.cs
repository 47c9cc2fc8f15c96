using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Notifications.Domain.Messaging;
using Notifications.Domain.Model;
using Notifications.EmailWorker.Consuming;
using Notifications.EmailWorker.Delivery;
using Npgsql;
using StackExchange.Redis;

namespace Notifications.EmailWorker.Tests.Support;

/// <summary>
/// A test's own world: a fresh migrated database and a Redis server of its own (the delivery streams have fixed names,
/// so tests sharing a Redis would read each other's entries), the hosts it starts, and helpers to seed jobs, append
/// entries and read back what the worker did.
/// </summary>
internal sealed class WorkerTestContext : IAsyncDisposable
{
    private static readonly TimeSpan WaitTimeout = TimeSpan.FromSeconds(60);
    private readonly List<WorkerHost> _hosts = [];

    private WorkerTestContext(string database, RedisServerFixture redisServer, ConnectionMultiplexer redis)
    {
        Database = database;
        RedisServer = redisServer;
        Multiplexer = redis;
        Redis = redis.GetDatabase();
        DataSource = NpgsqlDataSource.Create(database);
    }

    public static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    public string Database { get; }

    public NpgsqlDataSource DataSource { get; }

    public RedisServerFixture RedisServer { get; }

    public ConnectionMultiplexer Multiplexer { get; }

    public IDatabase Redis { get; }

    public static async Task<WorkerTestContext> CreateAsync(TestServers servers)
    {
        var redisServer = new RedisServerFixture();
        var database = TestDatabase.CreateMigratedDatabaseAsync(servers.Postgres);
        await Task.WhenAll(database, redisServer.InitializeAsync().AsTask());
        var redis = await ConnectionMultiplexer.ConnectAsync(redisServer.ConnectionString);
        return new WorkerTestContext(await database, redisServer, redis);
    }

    /// <summary>Starts a worker host with a scripted deliverer for the email channel (and the in-app channel if asked).</summary>
    public async Task<WorkerHost> StartWorkerAsync(
        IChannelDeliverer? deliverer = null,
        IReadOnlyDictionary<string, string?>? settings = null,
        bool inAppChannel = false,
        TimeSpan? shutdownTimeout = null,
        Action<IServiceCollection>? configureServices = null)
    {
        var host = await WorkerHost.StartAsync(Database, RedisServer.ConnectionString, settings,
            services =>
            {
                if (deliverer is not null)
                {
                    services.AddSingleton(deliverer);
                }
                configureServices?.Invoke(services);
            },
            inAppChannel, shutdownTimeout);
        _hosts.Add(host);
        return host;
    }

    public async Task<string> CreateUserAsync(string? email = null)
    {
        var now = DateTimeOffset.UtcNow;
        var userId = $"worker-{Guid.NewGuid():N}";
        await using var db = TestDatabase.CreateContext(Database);
        db.Users.Add(new User { Id = userId, Email = email ?? $"{userId}@example.test", CreatedAt = now, UpdatedAt = now });
        await db.SaveChangesAsync(Cancellation);
        return userId;
    }

    /// <summary>Notifications and their jobs on one channel, in the given status (queued: as the API leaves them).</summary>
    public async Task<List<DeliveryJob>> CreateJobsAsync(
        string userId, int count, DeliveryChannel channel = DeliveryChannel.Email, DeliveryJobStatus status = DeliveryJobStatus.Queued,
        Action<Notification>? adjustNotification = null)
    {
        var now = DateTimeOffset.UtcNow;
        await using var db = TestDatabase.CreateContext(Database);
        var jobs = new List<DeliveryJob>(count);
        for (var index = 0; index < count; index++)
        {
            var notification = new Notification
            {
                UserId = userId,
                Type = "comment.created",
                Category = "social",
                Priority = NotificationPriority.Normal,
                Title = $"Title {index}",
                Body = $"Body {index}",
                Data = JsonDocument.Parse($$"""{"index":{{index}},"url":"/posts/42"}"""),
                CreatedAt = now,
            };
            adjustNotification?.Invoke(notification);
            var job = new DeliveryJob
            {
                NotificationId = notification.Id,
                UserId = userId,
                Channel = channel,
                Status = status,
                ScheduledFor = now,
                CreatedAt = now,
                UpdatedAt = now,
            };
            db.Notifications.Add(notification);
            db.DeliveryJobs.Add(job);
            jobs.Add(job);
        }
        await db.SaveChangesAsync(Cancellation);
        return jobs;
    }

    /// <summary>Appends the job's entry to its channel's stream, as the outbox relay does; returns the entry id.</summary>
    public async Task<string> AppendAsync(DeliveryJob job, string? traceParent = null, string? traceState = null) =>
        await AppendFieldsAsync(job.Channel, DeliveryMessage.ForJob(job, traceParent, traceState).ToStreamFields());

    /// <summary>Appends the entry the relay would append for an outbox row (e.g. a scheduled retry).</summary>
    public Task<string> AppendAsync(OutboxMessage row) =>
        AppendFieldsAsync(row.Channel, row.ToDeliveryMessage().ToStreamFields());

    public async Task<string> AppendFieldsAsync(DeliveryChannel channel, IReadOnlyList<KeyValuePair<string, string>> fields)
    {
        var arguments = new List<object> { DeliveryStreams.For(channel), "*" };
        foreach (var (name, value) in fields)
        {
            arguments.Add(name);
            arguments.Add(value);
        }
        return (string)(await Redis.ExecuteAsync("XADD", [.. arguments]))!;
    }

    /// <summary>Entries of a channel's stream read by the group and not acknowledged.</summary>
    public async Task<long> PendingEntriesAsync(DeliveryChannel channel)
    {
        var summary = (RedisResult[])(await Redis.ExecuteAsync("XPENDING", DeliveryStreams.For(channel), DeliveryStreams.ConsumerGroup))!;
        return (long)summary[0];
    }

    /// <summary>
    /// Whether the group has read every entry of the channel's stream and acknowledged them all (an entry not read yet
    /// is not pending either, so pending alone would say so too early).
    /// </summary>
    public async Task<bool> StreamConsumedAsync(DeliveryChannel channel)
    {
        var state = await new DeliveryStream(DeliveryStreams.For(channel), "test", Redis, Redis).GetGroupStateAsync(Cancellation);
        return state is { Lag: 0, Pending: 0 };
    }

    public async Task WaitUntilConsumedAsync(DeliveryChannel channel = DeliveryChannel.Email) =>
        await WaitUntilAsync(() => StreamConsumedAsync(channel), $"every entry of the {channel} stream is read and acknowledged");

    public async Task<DeliveryJob> JobAsync(Guid jobId)
    {
        await using var db = TestDatabase.CreateContext(Database);
        return await db.DeliveryJobs.AsNoTracking().SingleAsync(job => job.Id == jobId, Cancellation);
    }

    public async Task<List<DeliveryJob>> JobsAsync(IEnumerable<Guid> jobIds)
    {
        var ids = jobIds.ToList();
        await using var db = TestDatabase.CreateContext(Database);
        return await db.DeliveryJobs.AsNoTracking().Where(job => ids.Contains(job.Id)).ToListAsync(Cancellation);
    }

    public async Task<List<DeliveryLog>> LogsAsync(Guid jobId)
    {
        await using var db = TestDatabase.CreateContext(Database);
        return await db.DeliveryLogs.AsNoTracking().Where(log => log.JobId == jobId).OrderBy(log => log.Attempt).ThenBy(log => log.CreatedAt).ToListAsync(Cancellation);
    }

    public async Task<List<OutboxMessage>> OutboxRowsAsync(Guid jobId)
    {
        await using var db = TestDatabase.CreateContext(Database);
        return await db.OutboxMessages.AsNoTracking().Where(row => row.JobId == jobId).OrderBy(row => row.Id).ToListAsync(Cancellation);
    }

    public async Task<DeadLetter?> DeadLetterAsync(Guid jobId)
    {
        await using var db = TestDatabase.CreateContext(Database);
        return await db.DeadLetters.AsNoTracking().SingleOrDefaultAsync(deadLetter => deadLetter.JobId == jobId, Cancellation);
    }

    public async Task<int> CountJobsAsync(IEnumerable<Guid> jobIds, DeliveryJobStatus status)
    {
        var ids = jobIds.ToList();
        await using var db = TestDatabase.CreateContext(Database);
        return await db.DeliveryJobs.CountAsync(job => ids.Contains(job.Id) && job.Status == status, Cancellation);
    }

    /// <summary>Polls until the condition holds; fails after a deadline generous enough for a loaded machine, with the hosts' logs.</summary>
    public async Task WaitUntilAsync(Func<Task<bool>> condition, string what)
    {
        var deadline = DateTimeOffset.UtcNow + WaitTimeout;
        while (!await condition())
        {
            if (DateTimeOffset.UtcNow > deadline)
            {
                Assert.Fail($"Timed out waiting until {what}.{Environment.NewLine}{string.Join(Environment.NewLine, _hosts.Select(host => host.Logs.Tail()))}");
            }
            await Task.Delay(TimeSpan.FromMilliseconds(25), Cancellation);
        }
    }

    public Task WaitUntilAsync(Func<bool> condition, string what) => WaitUntilAsync(() => Task.FromResult(condition()), what);

    public async Task WaitForStatusAsync(IReadOnlyCollection<Guid> jobIds, DeliveryJobStatus status) =>
        await WaitUntilAsync(async () => await CountJobsAsync(jobIds, status) == jobIds.Count,
            $"{jobIds.Count} jobs are {status}");

    public async ValueTask DisposeAsync()
    {
        foreach (var host in _hosts)
        {
            await host.DisposeAsync();
        }
        Multiplexer.Dispose();
        await DataSource.DisposeAsync();
        await RedisServer.DisposeAsync();
    }
}
