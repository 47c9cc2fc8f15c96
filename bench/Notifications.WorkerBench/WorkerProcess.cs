using System.Collections.Concurrent;
using Notifications.Hosting;
using Notifications.Hosting.Processes;

namespace Notifications.WorkerBench;

/// <summary>The worker as it ships (its own Program and registrations), run with <c>dotnet exec</c> and given settings as environment variables.</summary>
internal sealed class WorkerProcess : IAsyncDisposable
{
    private static readonly TimeSpan ReadyTimeout = TimeSpan.FromSeconds(60);
    private readonly ManagedProcess _process;
    private readonly ConcurrentQueue<string> _output;

    private WorkerProcess(ManagedProcess process, ConcurrentQueue<string> output)
    {
        _process = process;
        _output = output;
    }

    public int ProcessId => _process.Id;

    public string OutputTail => string.Join(Environment.NewLine, _output.TakeLast(40));

    public static async Task<WorkerProcess> StartAsync(IProjectMetadata worker, int port, IReadOnlyDictionary<string, string> settings, CancellationToken cancellationToken)
    {
        var environment = new Dictionary<string, string?>
        {
            ["DOTNET_ENVIRONMENT"] = "Production",
            ["ASPNETCORE_URLS"] = $"http://127.0.0.1:{port}",
            ["Logging__LogLevel__Default"] = "Warning",
        };
        foreach (var (key, value) in settings)
        {
            environment[key.Replace(":", "__", StringComparison.Ordinal)] = value;
        }
        var dotnet = Environment.ProcessPath is { } path && Path.GetFileNameWithoutExtension(path) == "dotnet" ? path : "dotnet";
        var spec = new ProcessSpec(dotnet, ["exec", worker.AssemblyPath], Path.GetDirectoryName(worker.AssemblyPath)!) { Environment = environment };
        var output = new ConcurrentQueue<string>();
        var writer = new QueueWriter(output);
        var process = ManagedProcess.Start("emailworker", spec, new ResourceOutput(writer));
        var started = new WorkerProcess(process, output);

        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        var deadline = DateTimeOffset.UtcNow + ReadyTimeout;
        while (true)
        {
            if (process.Exited.IsCompleted)
            {
                throw new InvalidOperationException($"The worker exited with code {process.Exited.Result}:{Environment.NewLine}{started.OutputTail}");
            }
            try
            {
                if ((await http.GetAsync($"http://127.0.0.1:{port}/health", cancellationToken)).IsSuccessStatusCode)
                {
                    return started;
                }
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }
            if (DateTimeOffset.UtcNow > deadline)
            {
                throw new TimeoutException($"The worker was not healthy within {ReadyTimeout}:{Environment.NewLine}{started.OutputTail}");
            }
            await Task.Delay(TimeSpan.FromMilliseconds(200), cancellationToken);
        }
    }

    /// <summary>User and system CPU time the worker has used so far.</summary>
    public TimeSpan CpuTime() => ProcessCpu.Of(ProcessId);

    /// <summary>
    /// Waits until the worker uses (almost) no CPU for a while, or <paramref name="timeout"/> has passed; returns how long it
    /// waited. After the warm-up the runtime's background JIT still has methods queued to recompile optimized (tiered
    /// compilation): on a busy machine that backlog took over a third of the worker's CPU well into a measured run.
    /// </summary>
    public async Task<TimeSpan> WaitUntilIdleAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        var interval = TimeSpan.FromSeconds(1);
        var idle = interval * 0.02;
        var started = DateTimeOffset.UtcNow;
        var before = CpuTime();
        while (DateTimeOffset.UtcNow - started < timeout)
        {
            await Task.Delay(interval, cancellationToken);
            var now = CpuTime();
            if (now - before <= idle)
            {
                break;
            }
            before = now;
        }
        return DateTimeOffset.UtcNow - started;
    }

    public async ValueTask DisposeAsync()
    {
        await _process.StopAsync(signal: 15, TimeSpan.FromSeconds(30)); // SIGTERM: the host stops gracefully
        await _process.DisposeAsync();
    }

    private sealed class QueueWriter(ConcurrentQueue<string> lines) : TextWriter
    {
        public override System.Text.Encoding Encoding => System.Text.Encoding.UTF8;

        public override void WriteLine(string? value)
        {
            lines.Enqueue(value ?? "");
            while (lines.Count > 400 && lines.TryDequeue(out _))
            {
            }
        }
    }
}
