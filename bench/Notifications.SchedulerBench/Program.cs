using System.Diagnostics;
using System.Text.Json;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Notifications.Domain;
using Notifications.Domain.Persistence;
using Notifications.Domain.Persistence.Migrations;
using Notifications.Domain.Scheduling;
using Notifications.Hosting;
using Notifications.LoadTest;
using Notifications.Scheduler.Cron;
using Notifications.Scheduler.Extensions;
using Notifications.SchedulerBench;
using Npgsql;

// Digest benchmark (issue 5): N users with M digest_pending emails each and a daily schedule, all due at once; how
// long one digest-dispatch run takes to queue every digest, and the process's resident memory meanwhile. The run uses
// the scheduler's own registrations (database, options, runner, DigestDispatchService) in this process.
var options = new ConfigurationBuilder().AddCommandLine(args).Build().Get<SchedulerBenchOptions>() ?? new SchedulerBenchOptions();
using var cancellation = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) => { e.Cancel = true; cancellation.Cancel(); };
var token = cancellation.Token;

var endpoints = ReadAppHostEndpoints(options.StateDirectory);
var adminConnectionString = options.Postgres ?? endpoints?.Resources.GetValueOrDefault("postgres")?.ConnectionString
    ?? throw new InvalidOperationException("No PostgreSQL: start the AppHost (`dotnet run --project Notifications.AppHost -c Release`) or pass --Postgres.");
// The digest run never touches Redis, but the scheduler's registrations include its client.
var redisConnectionString = endpoints?.Resources.GetValueOrDefault(ResourceNames.Redis)?.ConnectionString ?? "127.0.0.1:6379";

var databaseName = $"scheduler_bench_{DateTime.UtcNow:yyyyMMddHHmmss}";
await ExecuteAsync(adminConnectionString, $"CREATE DATABASE {databaseName}", token);
var connectionString = new NpgsqlConnectionStringBuilder(adminConnectionString) { Database = databaseName }.ConnectionString;
try
{
    await using (var dataSource = NpgsqlDataSource.Create(connectionString))
    {
        await new DatabaseMigrator(dataSource, NullLogger<DatabaseMigrator>.Instance).MigrateAsync(token);
    }
    Console.WriteLine($"database {databaseName}: {options.Users:N0} users × {options.ItemsPerUser} pending emails, every schedule due; " +
        $"batch {options.BatchSize}, parallelism {options.Parallelism}, {Environment.ProcessorCount} cores");

    var seeding = Stopwatch.StartNew();
    var now = DateTimeOffset.UtcNow;
    await SeedAsync(connectionString, options, now, token);
    Console.WriteLine($"seeded in {seeding.Elapsed.TotalSeconds:F1} s");

    var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { EnvironmentName = "Production" });
    builder.Logging.SetMinimumLevel(LogLevel.Warning);
    builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
    {
        [$"ConnectionStrings:{ResourceNames.Database}"] = connectionString,
        [$"ConnectionStrings:{ResourceNames.Redis}"] = redisConnectionString,
        ["Scheduler:Digests:BatchSize"] = options.BatchSize.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["Scheduler:Digests:Parallelism"] = options.Parallelism.ToString(System.Globalization.CultureInfo.InvariantCulture),
    });
    builder.AddNpgsqlDbContext<NotificationsDbContext>(ResourceNames.Database);
    builder.AddRedisClient(ResourceNames.Redis);
    builder.AddCronJobs();
    using var host = builder.Build();
    var runner = host.Services.GetRequiredService<CronJobRunner>();

    GC.Collect();
    var rssBefore = ResidentMegabytes();
    using var memory = ProcessMemorySampler.Start(Environment.ProcessId);
    var run = Stopwatch.StartNew();
    var outcome = await runner.RunAsync(CronJobCatalog.DigestDispatch, token);
    run.Stop();
    var rss = memory.Stop();

    var digests = await ScalarAsync(connectionString, "SELECT count(*) FROM delivery_jobs WHERE kind = 'digest' AND status = 'queued'", token);
    var folded = await ScalarAsync(connectionString, "SELECT count(*) FROM delivery_jobs WHERE status = 'digested'", token);
    var outbox = await ScalarAsync(connectionString, "SELECT count(*) FROM outbox_messages", token);
    var stillDue = await ScalarAsync(connectionString, "SELECT count(*) FROM digest_schedules WHERE next_due_at <= now()", token);
    var stillPending = await ScalarAsync(connectionString, "SELECT count(*) FROM delivery_jobs WHERE status = 'digest_pending'", token);

    Console.WriteLine($"run {outcome.Status}: {run.Elapsed.TotalSeconds:F1} s until every digest was queued " +
        $"({options.Users / run.Elapsed.TotalSeconds:N0} schedules/s); found {outcome.Counts.Found:N0}, digests {outcome.Counts.Completed:N0}, " +
        $"skipped {outcome.Counts.Skipped:N0}, failed {outcome.Counts.Failed:N0}, errors {outcome.Counts.Errors:N0}");
    Console.WriteLine($"database: {digests:N0} queued digests, {folded:N0} emails folded, {outbox:N0} outbox rows, " +
        $"{stillDue:N0} schedules still due, {stillPending:N0} emails still pending");
    Console.WriteLine($"process RSS: {rssBefore:F0} MB before, peak {rss?.PeakMegabytes:F0} MB, mean {rss?.MeanMegabytes:F0} MB during the run");
    return digests == options.Users && folded == (long)options.Users * options.ItemsPerUser && stillDue == 0 ? 0 : 1;
}
finally
{
    if (!options.KeepDatabase)
    {
        NpgsqlConnection.ClearAllPools();
        await ExecuteAsync(adminConnectionString, $"DROP DATABASE IF EXISTS {databaseName} WITH (FORCE)", CancellationToken.None);
    }
}

static async Task SeedAsync(string connectionString, SchedulerBenchOptions options, DateTimeOffset now, CancellationToken token)
{
    await using var connection = new NpgsqlConnection(connectionString);
    await connection.OpenAsync(token);
    string[] statements =
    [
        """
        INSERT INTO users (id, email, time_zone, email_enabled, created_at, updated_at)
        SELECT 'bench-' || lpad(u::text, 7, '0'), 'bench-' || u || '@example.test', 'UTC', true, @now, @now
        FROM generate_series(1, @users) u
        """,
        """
        WITH notifications AS (
            INSERT INTO notifications (id, user_id, type, category, priority, title, body, data, created_at)
            SELECT gen_random_uuid(), 'bench-' || lpad(u::text, 7, '0'), 'comment.created', 'comments', 'normal',
                   'New comment ' || i, 'Someone commented.', '{}', @now - make_interval(mins => i)
            FROM generate_series(1, @users) u, generate_series(1, @items) i
            RETURNING id, user_id, created_at)
        INSERT INTO delivery_jobs (id, kind, notification_id, user_id, channel, status, priority, attempts, recovery_count,
                                   scheduled_for, created_at, updated_at)
        SELECT gen_random_uuid(), 'notification', id, user_id, 'email', 'digest_pending', 'normal', 0, 0, created_at, created_at, created_at
        FROM notifications
        """,
        """
        INSERT INTO digest_schedules (id, user_id, frequency, delivery_time, delivery_day, time_zone, max_items, included_categories,
                                      active, next_due_at, created_at, updated_at)
        SELECT gen_random_uuid(), 'bench-' || lpad(u::text, 7, '0'), 'daily', '09:00', NULL, 'UTC', 20, '{}', true,
               @now - interval '1 minute', @now, @now
        FROM generate_series(1, @users) u
        """,
        "VACUUM ANALYZE",
    ];
    foreach (var sql in statements)
    {
        await using var command = new NpgsqlCommand(sql, connection) { CommandTimeout = 0 };
        command.Parameters.AddWithValue("now", now);
        command.Parameters.AddWithValue("users", options.Users);
        command.Parameters.AddWithValue("items", options.ItemsPerUser);
        await command.ExecuteNonQueryAsync(token);
    }
}

static async Task ExecuteAsync(string connectionString, string sql, CancellationToken token)
{
    await using var connection = new NpgsqlConnection(connectionString);
    await connection.OpenAsync(token);
    await using var command = new NpgsqlCommand(sql, connection);
    await command.ExecuteNonQueryAsync(token);
}

static async Task<long> ScalarAsync(string connectionString, string sql, CancellationToken token)
{
    await using var connection = new NpgsqlConnection(connectionString);
    await connection.OpenAsync(token);
    await using var command = new NpgsqlCommand(sql, connection);
    return (long)(await command.ExecuteScalarAsync(token))!;
}

static double ResidentMegabytes()
{
    var line = File.ReadLines("/proc/self/status").First(text => text.StartsWith("VmRSS:", StringComparison.Ordinal));
    return long.Parse(line["VmRSS:".Length..].Trim().Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture) / 1024.0;
}

static AppHostEndpoints? ReadAppHostEndpoints(string? stateDirectory)
{
    var file = Path.Combine(new AppHostOptions { StateDirectory = stateDirectory }.ResolveStateDirectory(), "endpoints.json");
    return File.Exists(file) ? JsonSerializer.Deserialize<AppHostEndpoints>(File.ReadAllText(file), JsonSerializerOptions.Web) : null;
}
