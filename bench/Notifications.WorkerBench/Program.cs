using Microsoft.Extensions.Configuration;
using Notifications.Domain;
using Notifications.Domain.Model;
using Notifications.Domain.Persistence;
using Notifications.Testing;
using Notifications.Testing.Fakes;
using Notifications.WorkerBench;
using Npgsql;
using StackExchange.Redis;

// Worker throughput: a fresh Postgres and Redis (the test fixtures: local binaries, random ports, fsync off), queued jobs
// seeded with COPY, the worker process as it ships, and entries appended as the outbox relay would append them.
//   dotnet run -c Release --project bench/Notifications.WorkerBench -- --Jobs 60000                      (drain: jobs/s)
//   dotnet run -c Release --project bench/Notifications.WorkerBench -- --Mode rate --Rate 1000           (queue-to-sent latency)
//   dotnet run -c Release --project bench/Notifications.WorkerBench -- --Channel email --Jobs 30000 --MaxConcurrency 64
// Email runs send through the worker's Resend client to a fake Resend API in this process (--EmailProvider dev-mailbox
// writes Postgres rows instead), with the quota and the per-user rate limit off. Any worker setting can be given as
// --WorkerSettings:<key>=<value>, with ':' or '__' between the parts (--WorkerSettings:Email:UserRateLimit:Enabled=true).
var configuration = new ConfigurationBuilder().AddCommandLine(args).Build();
var options = configuration.Get<WorkerBenchOptions>() ?? new WorkerBenchOptions();
if (options.EmailProvider is not (WorkerBenchOptions.ResendProvider or WorkerBenchOptions.DevMailboxProvider))
{
    throw new ArgumentException($"--EmailProvider must be '{WorkerBenchOptions.ResendProvider}' or '{WorkerBenchOptions.DevMailboxProvider}' (was '{options.EmailProvider}').");
}
using var cancellation = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) => { e.Cancel = true; cancellation.Cancel(); };
var token = cancellation.Token;
var channel = SnakeCaseEnum<DeliveryChannel>.FromName(options.Channel);

var postgres = new PostgresServerFixture();
var redisServer = new RedisServerFixture();
await Task.WhenAll(postgres.InitializeAsync().AsTask(), redisServer.InitializeAsync().AsTask());
try
{
    var database = await postgres.CreateDatabaseAsync("worker_bench");
    await using var dataSource = NpgsqlDataSource.Create(database);
    await TestDatabase.CreateMigrator(dataSource).MigrateAsync(token);
    using var redis = await ConnectionMultiplexer.ConnectAsync(redisServer.ConnectionString);

    var seeder = new JobSeeder(dataSource, channel, options.Users);
    await seeder.CreateUsersAsync(token);
    var measuredCount = options.Mode == "rate" ? (int)(options.Rate * options.Duration.TotalSeconds) : options.Jobs;
    var warmup = await seeder.CreateJobsAsync(options.WarmupJobs, token);
    var measured = await seeder.CreateJobsAsync(measuredCount, token);

    await using var resend = channel == DeliveryChannel.Email && options.EmailProvider == WorkerBenchOptions.ResendProvider
        ? await FakeResendServer.StartNewAsync()
        : null;
    var settings = WorkerSettings.For(configuration, options, database, redisServer.ConnectionString, resend?.BaseUrl);
    await using var worker = await WorkerProcess.StartAsync(new Projects.Notifications_EmailWorker(), FreeTcpPort(), settings, token);
    Console.WriteLine($"worker pid {worker.ProcessId}, channel {options.Channel}, {options.Users} users, max concurrency {options.MaxConcurrency}, " +
        $"{Environment.ProcessorCount} cores{(channel == DeliveryChannel.Email ? $", email provider {settings["Email:Provider"]}" : "")}; warming up with {warmup.Count} jobs");

    var redisPort = redisServer.ConnectionString.Split(',')[0].Split(':')[^1];
    var run = new BenchRun(dataSource, redis.GetDatabase(), channel, commandLine =>
        commandLine.Contains("worker_bench", StringComparison.Ordinal)
        || (commandLine.StartsWith("redis-server", StringComparison.Ordinal) && commandLine.Contains($":{redisPort}", StringComparison.Ordinal)));
    await run.DrainAsync(warmup, worker, token);
    var settled = await worker.WaitUntilIdleAsync(TimeSpan.FromSeconds(60), token);
    Console.WriteLine($"warm-up drained; the worker was idle {settled.TotalSeconds:0.0} s later");
    var result = options.Mode == "rate"
        ? await run.AtRateAsync(measured, options.Rate, worker, token)
        : await run.DrainAsync(measured, worker, token);
    result.Print(Console.Out, options.Mode == "rate" ? $"rate {options.Rate}/s for {options.Duration.TotalSeconds:0} s" : "drain (backlog appended at once)");
}
finally
{
    await redisServer.DisposeAsync();
    await postgres.DisposeAsync();
}

static int FreeTcpPort()
{
    using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
    listener.Start();
    return ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
}
