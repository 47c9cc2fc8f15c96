using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace Notifications.LoadTest;

/// <summary>
/// Sends notifications for a while, at a fixed rate (open loop) or as fast as the answers come (closed loop), and
/// records every request's latency and outcome. A single send goes to one recipient on two channels (in-app and
/// email); a batch send goes to <see cref="LoadTestOptions.BatchSize"/> recipients at once.
/// </summary>
internal sealed class SendRun(ProducerClient client, LoadTestOptions options)
{
    private static readonly MediaTypeHeaderValue Json = new("application/json");

    /// <summary>How long after the run's duration an open-loop request may still start.</summary>
    private static readonly TimeSpan StartDeadlineAfterRun = TimeSpan.FromSeconds(5);
    private long _sequence;

    private bool IsBatch => string.Equals(options.Scenario, "batch", StringComparison.OrdinalIgnoreCase);

    public async Task<RunResult> ExecuteAsync(TimeSpan duration, ProcessMemorySampler? memory, CpuUsage? cpu, CancellationToken cancellationToken)
    {
        var recorder = new RunRecorder();
        var stopwatch = Stopwatch.StartNew();
        if (options.Rate > 0)
        {
            await RunOpenLoopAsync(duration, recorder, stopwatch, cancellationToken);
        }
        else
        {
            await RunClosedLoopAsync(duration, recorder, stopwatch, cancellationToken);
        }
        return recorder.Complete(options, stopwatch.Elapsed, memory?.Stop(), cpu?.Stop());
    }

    private async Task RunOpenLoopAsync(TimeSpan duration, RunRecorder recorder, Stopwatch stopwatch, CancellationToken cancellationToken)
    {
        using var inFlight = new SemaphoreSlim(options.Concurrency);
        var requests = new List<Task>((int)(options.Rate * duration.TotalSeconds) + 1);
        var total = (long)(options.Rate * duration.TotalSeconds);
        for (long index = 0; index < total && !cancellationToken.IsCancellationRequested; index++)
        {
            var due = TimeSpan.FromSeconds(index / (double)options.Rate);
            var wait = due - stopwatch.Elapsed;
            if (wait > TimeSpan.FromMilliseconds(1))
            {
                await Task.Delay(wait, cancellationToken);
            }
            requests.Add(SendScheduledAsync(due, duration + StartDeadlineAfterRun, inFlight, recorder, stopwatch, cancellationToken));
        }
        await Task.WhenAll(requests);
    }

    /// <summary>
    /// Latency counts from the scheduled start, so time spent waiting for a free connection is not hidden. A request still
    /// without a connection at <paramref name="startBy"/> is counted as an error instead of sent: offered more than the API
    /// can take, the run ends shortly after its duration instead of working through the backlog.
    /// </summary>
    private async Task SendScheduledAsync(
        TimeSpan due, TimeSpan startBy, SemaphoreSlim inFlight, RunRecorder recorder, Stopwatch stopwatch, CancellationToken cancellationToken)
    {
        var timeLeft = startBy - stopwatch.Elapsed;
        if (!await inFlight.WaitAsync(timeLeft > TimeSpan.Zero ? timeLeft : TimeSpan.Zero, cancellationToken))
        {
            recorder.Failed(stopwatch.Elapsed - due, "not sent (every connection busy until the run ended)");
            return;
        }
        try
        {
            await SendOneAsync(recorder, stopwatch, due, cancellationToken);
        }
        finally
        {
            inFlight.Release();
        }
    }

    private async Task RunClosedLoopAsync(TimeSpan duration, RunRecorder recorder, Stopwatch stopwatch, CancellationToken cancellationToken)
    {
        var clients = Enumerable.Range(0, options.Concurrency).Select(async _ =>
        {
            while (stopwatch.Elapsed < duration && !cancellationToken.IsCancellationRequested)
            {
                await SendOneAsync(recorder, stopwatch, stopwatch.Elapsed, cancellationToken);
            }
        });
        await Task.WhenAll(clients);
    }

    private async Task SendOneAsync(RunRecorder recorder, Stopwatch stopwatch, TimeSpan start, CancellationToken cancellationToken)
    {
        var sequence = Interlocked.Increment(ref _sequence);
        var (route, body, recipients) = IsBatch ? BatchRequest(sequence) : SingleRequest(sequence);
        try
        {
            using var content = new ByteArrayContent(body);
            content.Headers.ContentType = Json;
            using var response = await client.Http.PostAsync(route, content, cancellationToken);
            var latency = stopwatch.Elapsed - start;
            if ((int)response.StatusCode == 202)
            {
                recorder.Accepted(latency, recipients);
            }
            else
            {
                recorder.Failed(latency, $"HTTP {(int)response.StatusCode}");
            }
        }
        catch (Exception exception) when (exception is HttpRequestException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
        {
            recorder.Failed(stopwatch.Elapsed - start, exception.GetType().Name);
        }
    }

    private (string Route, byte[] Body, int Recipients) SingleRequest(long sequence)
    {
        var userId = client.UserIds[(int)(sequence % client.UserIds.Count)];
        var body = JsonSerializer.SerializeToUtf8Bytes(new
        {
            userId,
            type = "load.test",
            category = "load",
            priority = "normal",
            title = $"Load test {sequence}",
            body = "A notification sent by the load generator.",
            data = new { sequence },
            channels = new[] { "in_app", "email" },
        }, JsonSerializerOptions.Web);
        return ("/api/notifications", body, 1);
    }

    private (string Route, byte[] Body, int Recipients) BatchRequest(long sequence)
    {
        var offset = (int)(sequence * options.BatchSize % client.UserIds.Count);
        var userIds = Enumerable.Range(0, Math.Min(options.BatchSize, client.UserIds.Count))
            .Select(index => client.UserIds[(offset + index) % client.UserIds.Count])
            .ToArray();
        var body = JsonSerializer.SerializeToUtf8Bytes(new
        {
            userIds,
            type = "load.test",
            category = "load",
            priority = "normal",
            title = $"Load test batch {sequence}",
            body = "A notification sent by the load generator.",
            data = new { sequence },
            channels = new[] { "in_app", "email" },
        }, JsonSerializerOptions.Web);
        return ("/api/notifications/batch", body, userIds.Length);
    }
}

/// <summary>Thread-safe tally of one run.</summary>
internal sealed class RunRecorder
{
    private readonly ConcurrentQueue<double> _latenciesMs = new();
    private readonly ConcurrentDictionary<string, int> _errors = new(StringComparer.Ordinal);
    private long _acceptedRecipients;

    public void Accepted(TimeSpan latency, int recipients)
    {
        _latenciesMs.Enqueue(latency.TotalMilliseconds);
        Interlocked.Add(ref _acceptedRecipients, recipients);
    }

    public void Failed(TimeSpan latency, string reason)
    {
        _latenciesMs.Enqueue(latency.TotalMilliseconds);
        _errors.AddOrUpdate(reason, 1, (_, count) => count + 1);
    }

    public RunResult Complete(LoadTestOptions options, TimeSpan elapsed, MemorySummary? memory, CpuSummary? cpu)
    {
        var latencies = _latenciesMs.ToArray();
        Array.Sort(latencies);
        return new RunResult(options.Scenario, latencies.Length, Interlocked.Read(ref _acceptedRecipients),
            _errors.ToDictionary(), elapsed, latencies, memory, cpu);
    }
}

internal sealed record RunResult(
    string Scenario,
    int Requests,
    long AcceptedRecipients,
    IReadOnlyDictionary<string, int> ErrorsByReason,
    TimeSpan Elapsed,
    double[] SortedLatenciesMs,
    MemorySummary? ApiMemory,
    CpuSummary? Cpu)
{
    public int Errors => ErrorsByReason.Values.Sum();

    public void Print(TextWriter output)
    {
        var seconds = Elapsed.TotalSeconds;
        var text = new StringBuilder()
            .AppendLine($"scenario           {Scenario}")
            .AppendLine($"requests           {Requests} in {seconds:0.0} s ({Requests / seconds:0} req/s)")
            .AppendLine($"accepted           {AcceptedRecipients} recipient-notifications ({AcceptedRecipients / seconds:0}/s)")
            .AppendLine($"latency ms         p50 {Percentile(0.50):0.0}  p90 {Percentile(0.90):0.0}  p99 {Percentile(0.99):0.0}  max {Percentile(1):0.0}")
            .AppendLine($"errors             {Errors}" + (Errors > 0 ? $" ({string.Join(", ", ErrorsByReason.Select(pair => $"{pair.Key}: {pair.Value}"))})" : ""))
            .AppendLine(ApiMemory is { } memory
                ? $"api RSS MB         peak {memory.PeakMegabytes:0}  mean {memory.MeanMegabytes:0}"
                : "api RSS MB         unknown (API not started by the AppHost)")
            .AppendLine(Cpu is { } cpu && AcceptedRecipients > 0
                ? $"CPU ms/notif.      api {cpu.Api.TotalMilliseconds / AcceptedRecipients:0.000}  postgres (every service's queries) {cpu.DatabaseBackends.TotalMilliseconds / AcceptedRecipients:0.000}"
                : "CPU ms/notif.      unknown");
        output.Write(text);
    }

    private double Percentile(double fraction) =>
        SortedLatenciesMs.Length == 0 ? 0 : SortedLatenciesMs[(int)Math.Min(SortedLatenciesMs.Length - 1, Math.Ceiling(fraction * SortedLatenciesMs.Length) - 1)];
}
