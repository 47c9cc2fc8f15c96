using Microsoft.Extensions.Configuration;
using Notifications.LoadTest;

var options = new ConfigurationBuilder().AddCommandLine(args).Build().Get<LoadTestOptions>() ?? new LoadTestOptions();
using var cancellation = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) => { e.Cancel = true; cancellation.Cancel(); };

var target = TargetApi.Resolve(options);
Console.WriteLine($"API {target.BaseUrl} (pid {target.ProcessId?.ToString() ?? "unknown"}), scenario {options.Scenario}, " +
    (options.Rate > 0 ? $"{options.Rate} req/s offered" : $"closed loop, {options.Concurrency} clients") +
    $", {options.Duration.TotalSeconds:0} s after {options.Warmup.TotalSeconds:0} s warm-up");

using var client = await ProducerClient.CreateAsync(target.BaseUrl, options.Concurrency, cancellation.Token);
await client.RegisterUsersAsync(options.Users, cancellation.Token);

if (string.Equals(options.Scenario, "sse", StringComparison.OrdinalIgnoreCase))
{
    using var apiMemory = target.ProcessId is { } apiPid ? ProcessMemorySampler.Start(apiPid) : null;
    using var workerMemory = target.WorkerProcessId is { } workerPid ? ProcessMemorySampler.Start(workerPid) : null;
    var latency = await new SseLatencyRun(client, options).ExecuteAsync(target.BaseUrl, options.Warmup, options.Duration, cancellation.Token);
    latency.Print(Console.Out, options.Rate, options.Users);
    Console.WriteLine(MemoryLine("api", apiMemory?.Stop()));
    Console.WriteLine(MemoryLine("worker", workerMemory?.Stop()));
    return latency.Errors == 0 && latency.Missing == 0 ? 0 : 1;
}

var run = new SendRun(client, options);
await run.ExecuteAsync(options.Warmup, memory: null, cpu: null, cancellation.Token);
using var memory = target.ProcessId is { } pid ? ProcessMemorySampler.Start(pid) : null;
var cpu = CpuUsage.Start(target.ProcessId);
var result = await run.ExecuteAsync(options.Duration, memory, cpu, cancellation.Token);
result.Print(Console.Out);
return result.Errors == 0 ? 0 : 1;

static string MemoryLine(string process, MemorySummary? memory) =>
    memory is { } summary ? $"{process} RSS MB".PadRight(19) + $"peak {summary.PeakMegabytes:0}  mean {summary.MeanMegabytes:0}" : $"{process} RSS MB".PadRight(19) + "unknown";
