using System.Diagnostics;
using Notifications.Domain.Messaging;
using Notifications.Domain.Model;
using Notifications.LoadTest;
using Npgsql;
using StackExchange.Redis;

namespace Notifications.WorkerBench;

/// <summary>What one measured run came to.</summary>
/// <param name="ServersCpu">CPU the Postgres backends of the bench database and the Redis server used meanwhile.</param>
/// <param name="BenchCpu">CPU this process used meanwhile: appending the entries, polling and, for email, the fake Resend API.</param>
internal sealed record BenchResult(
    int Jobs, TimeSpan Elapsed, double[] SortedLatenciesMs, MemorySummary? WorkerMemory, TimeSpan WorkerCpu, TimeSpan ServersCpu, TimeSpan BenchCpu)
{
    public void Print(TextWriter output, string mode)
    {
        output.WriteLine($"mode               {mode}");
        output.WriteLine($"jobs               {Jobs} sent in {Elapsed.TotalSeconds:0.00} s ({Jobs / Elapsed.TotalSeconds:0} jobs/s)");
        output.WriteLine($"queue-to-sent ms   p50 {Percentile(0.50):0.0}  p90 {Percentile(0.90):0.0}  p99 {Percentile(0.99):0.0}  max {Percentile(1):0.0}");
        output.WriteLine($"worker CPU         {WorkerCpu.TotalSeconds:0.0} s ({WorkerCpu.TotalSeconds / Elapsed.TotalSeconds:0.00} cores)");
        output.WriteLine($"postgres+redis CPU {ServersCpu.TotalSeconds:0.0} s ({ServersCpu.TotalSeconds / Elapsed.TotalSeconds:0.00} cores)");
        // Not in the per-job figure (it is the load generator and the fake provider), but it runs on the same cores.
        output.WriteLine($"bench CPU          {BenchCpu.TotalSeconds:0.0} s ({BenchCpu.TotalSeconds / Elapsed.TotalSeconds:0.00} cores: entries, polls, fake provider)");
        // On a shared machine the elapsed time says more about the neighbours than about the worker; CPU per job does not.
        var cpuPerJobMs = (WorkerCpu + ServersCpu).TotalMilliseconds / Jobs;
        output.WriteLine($"CPU per job        {WorkerCpu.TotalMilliseconds / Jobs:0.000} ms worker + {ServersCpu.TotalMilliseconds / Jobs:0.000} ms postgres/redis " +
            $"= {cpuPerJobMs:0.000} ms, i.e. at most {Environment.ProcessorCount * 1000 / cpuPerJobMs:0} jobs/s on {Environment.ProcessorCount} dedicated cores");
        output.WriteLine(WorkerMemory is { } memory ? $"worker RSS MB      peak {memory.PeakMegabytes:0}  mean {memory.MeanMegabytes:0}" : "worker RSS MB      unknown");
    }

    private double Percentile(double fraction) =>
        SortedLatenciesMs.Length == 0 ? 0 : SortedLatenciesMs[(int)Math.Min(SortedLatenciesMs.Length - 1, Math.Ceiling(fraction * SortedLatenciesMs.Length) - 1)];
}

/// <summary>Appends the jobs' entries as the outbox relay would, and waits until the worker has sent them all.</summary>
/// <param name="isServerProcess">Tells the bench's Postgres backends and Redis server by their command lines.</param>
internal sealed class BenchRun(NpgsqlDataSource dataSource, IDatabase redis, DeliveryChannel channel, Func<string, bool> isServerProcess)
{
    private static readonly TimeSpan DrainTimeout = TimeSpan.FromMinutes(10);
    private static readonly TimeSpan StatusInterval = TimeSpan.FromSeconds(1);

    /// <summary>Appends every entry as fast as Redis takes them (pipelined), then waits for the backlog to drain.</summary>
    public async Task<BenchResult> DrainAsync(IReadOnlyList<DeliveryJob> jobs, WorkerProcess worker, CancellationToken cancellationToken)
    {
        using var memory = ProcessMemorySampler.Start(worker.ProcessId);
        var cpuBefore = worker.CpuTime();
        var serversBefore = ServersCpu();
        var benchBefore = BenchCpu();
        var appendedAt = new DateTimeOffset[jobs.Count];
        var started = Stopwatch.StartNew();
        for (var offset = 0; offset < jobs.Count; offset += 1000)
        {
            var chunk = Enumerable.Range(offset, Math.Min(1000, jobs.Count - offset)).ToList();
            var now = DateTimeOffset.UtcNow;
            foreach (var index in chunk)
            {
                appendedAt[index] = now;
            }
            await Task.WhenAll(chunk.Select(index => AppendAsync(jobs[index])));
        }
        await WaitUntilSentAsync(jobs, worker, cancellationToken);
        var elapsed = started.Elapsed;
        return await ResultAsync(jobs, appendedAt, elapsed, memory.Stop(), worker.CpuTime() - cpuBefore, ServersCpu() - serversBefore, BenchCpu() - benchBefore, cancellationToken);
    }

    /// <summary>Appends entries at a fixed rate (open loop: a slow worker does not slow the schedule), then waits for all to be sent.</summary>
    public async Task<BenchResult> AtRateAsync(IReadOnlyList<DeliveryJob> jobs, int rate, WorkerProcess worker, CancellationToken cancellationToken)
    {
        using var memory = ProcessMemorySampler.Start(worker.ProcessId);
        var cpuBefore = worker.CpuTime();
        var serversBefore = ServersCpu();
        var benchBefore = BenchCpu();
        var appendedAt = new DateTimeOffset[jobs.Count];
        var pending = new List<Task>(jobs.Count);
        var started = Stopwatch.StartNew();
        var next = 0;
        while (next < jobs.Count)
        {
            // Every due entry goes out now; then sleep about a millisecond (the schedule, not the sleep, sets the rate).
            var due = Math.Min(jobs.Count, (int)(started.Elapsed.TotalSeconds * rate) + 1);
            for (; next < due; next++)
            {
                appendedAt[next] = DateTimeOffset.UtcNow;
                pending.Add(AppendAsync(jobs[next]));
            }
            await Task.Delay(1, cancellationToken);
        }
        await Task.WhenAll(pending);
        await WaitUntilSentAsync(jobs, worker, cancellationToken);
        var elapsed = started.Elapsed;
        return await ResultAsync(jobs, appendedAt, elapsed, memory.Stop(), worker.CpuTime() - cpuBefore, ServersCpu() - serversBefore, BenchCpu() - benchBefore, cancellationToken);
    }

    private Task AppendAsync(DeliveryJob job)
    {
        var fields = DeliveryMessage.ForJob(job, null, null).ToStreamFields();
        var arguments = new object[2 + 2 * fields.Count];
        arguments[0] = DeliveryStreams.For(channel);
        arguments[1] = "*";
        for (var index = 0; index < fields.Count; index++)
        {
            arguments[2 + 2 * index] = fields[index].Key;
            arguments[3 + 2 * index] = fields[index].Value;
        }
        return redis.ExecuteAsync("XADD", arguments);
    }

    /// <summary>
    /// Polls until every job is sent. The bench runs no outbox relay and no scheduler, so a job that ends anything but
    /// sent (a retry, a deferral, a dead letter, a skip) never comes back: the run stops at once and says why.
    /// </summary>
    /// <remarks>
    /// The status query looks up every job by id, which costs the bench's Postgres more the more jobs there are; asked
    /// every 50 ms it was a good part of the "postgres" CPU a run charged to the worker. So the fast poll asks Redis whether
    /// the group has anything left (undelivered or unacknowledged entries), and the jobs are counted once it has not, and
    /// at most every <see cref="StatusInterval"/> meanwhile, to stop early on a job that left the queue unsent.
    /// </remarks>
    private async Task WaitUntilSentAsync(IReadOnlyList<DeliveryJob> jobs, WorkerProcess worker, CancellationToken cancellationToken)
    {
        var ids = jobs.Select(job => job.Id).ToArray();
        var deadline = DateTimeOffset.UtcNow + DrainTimeout;
        var nextStatusAt = DateTimeOffset.UtcNow + StatusInterval;
        while (true)
        {
            if (DateTimeOffset.UtcNow < nextStatusAt && !await StreamDrainedAsync())
            {
                await Task.Delay(TimeSpan.FromMilliseconds(50), cancellationToken);
                continue;
            }
            nextStatusAt = DateTimeOffset.UtcNow + StatusInterval;
            var statuses = new Dictionary<string, long>(StringComparer.Ordinal);
            await using (var command = dataSource.CreateCommand("SELECT status, count(*) FROM delivery_jobs WHERE id = ANY($1) GROUP BY status"))
            {
                command.Parameters.Add(new NpgsqlParameter { Value = ids });
                await using var reader = await command.ExecuteReaderAsync(cancellationToken);
                while (await reader.ReadAsync(cancellationToken))
                {
                    statuses[reader.GetString(0)] = reader.GetInt64(1);
                }
            }
            var sent = statuses.GetValueOrDefault("sent");
            if (sent == ids.Length)
            {
                return;
            }
            if (statuses.Keys.Any(status => status is not ("queued" or "processing" or "sent")))
            {
                throw new InvalidOperationException(
                    $"Jobs left the queue without being sent ({Describe(statuses)}); they would never come back here.{Environment.NewLine}" +
                    $"Their last delivery log entries:{Environment.NewLine}{await FailuresAsync(ids, cancellationToken)}{Environment.NewLine}" +
                    $"The worker's output:{Environment.NewLine}{worker.OutputTail}");
            }
            if (DateTimeOffset.UtcNow > deadline)
            {
                throw new TimeoutException(
                    $"Only {sent} of {ids.Length} jobs were sent within {DrainTimeout} ({Describe(statuses)}).{Environment.NewLine}" +
                    $"The worker's output:{Environment.NewLine}{worker.OutputTail}");
            }
            await Task.Delay(TimeSpan.FromMilliseconds(50), cancellationToken);
        }
    }

    /// <summary>Whether the worker group has read and acknowledged every entry of the channel's stream.</summary>
    private async Task<bool> StreamDrainedAsync()
    {
        var groups = (RedisResult[])(await redis.ExecuteAsync("XINFO", "GROUPS", DeliveryStreams.For(channel)))!;
        foreach (var group in groups)
        {
            var fields = (RedisResult[])group!;
            var values = new Dictionary<string, RedisResult>(StringComparer.Ordinal);
            for (var index = 0; index + 1 < fields.Length; index += 2)
            {
                values[(string)fields[index]!] = fields[index + 1];
            }
            if ((string?)values["name"] == DeliveryStreams.ConsumerGroup)
            {
                return values.TryGetValue("lag", out var lag) && !lag.IsNull && (long)lag == 0 && (long)values["pending"] == 0;
            }
        }
        return false;
    }

    private static string Describe(Dictionary<string, long> statuses) =>
        string.Join(", ", statuses.OrderByDescending(pair => pair.Value).Select(pair => $"{pair.Value} {pair.Key}"));

    private async Task<string> FailuresAsync(Guid[] ids, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("""
            SELECT count(*), outcome, provider, coalesce(error, '') FROM delivery_logs
            WHERE job_id = ANY($1) AND outcome <> 'sent'
            GROUP BY outcome, provider, error ORDER BY count(*) DESC LIMIT 5
            """);
        command.Parameters.Add(new NpgsqlParameter { Value = ids });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var lines = new List<string>();
        while (await reader.ReadAsync(cancellationToken))
        {
            lines.Add($"  {reader.GetInt64(0)} × {reader.GetString(1)} from {reader.GetString(2)}: {reader.GetString(3)}");
        }
        return lines.Count == 0 ? "  none" : string.Join(Environment.NewLine, lines);
    }

    /// <summary>The run ends when the last job was sent (its processed_at), not when the poll noticed.</summary>
    private async Task<BenchResult> ResultAsync(
        IReadOnlyList<DeliveryJob> jobs, DateTimeOffset[] appendedAt, TimeSpan polledElapsed, MemorySummary? memory, TimeSpan cpu,
        TimeSpan serversCpu, TimeSpan benchCpu, CancellationToken cancellationToken)
    {
        var index = jobs.Select((job, position) => (job.Id, position)).ToDictionary(pair => pair.Id, pair => pair.position);
        var latencies = new double[jobs.Count];
        var lastSent = DateTimeOffset.MinValue;
        await using var command = dataSource.CreateCommand("SELECT id, processed_at FROM delivery_jobs WHERE id = ANY($1)");
        command.Parameters.Add(new NpgsqlParameter { Value = jobs.Select(job => job.Id).ToArray() });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            var position = index[reader.GetGuid(0)];
            var sentAt = reader.GetFieldValue<DateTimeOffset>(1);
            latencies[position] = (sentAt - appendedAt[position]).TotalMilliseconds;
            lastSent = sentAt > lastSent ? sentAt : lastSent;
        }
        var elapsed = lastSent - appendedAt.Min();
        Array.Sort(latencies);
        return new BenchResult(jobs.Count, elapsed > TimeSpan.Zero ? elapsed : polledElapsed, latencies, memory, cpu, serversCpu, benchCpu);
    }

    private TimeSpan ServersCpu() => ProcessCpu.OfMatching(isServerProcess);

    private static TimeSpan BenchCpu() => ProcessCpu.Of(Environment.ProcessId);
}
