using System.Collections.Concurrent;
using Npgsql;
using NpgsqlTypes;

namespace Notifications.Scheduler.Cron;

/// <summary>What one call of a batch processor is asked to claim, and what it reports back.</summary>
/// <param name="Worker">Which of the run's parallel workers asks, from 0: a processor may keep a cursor per worker.</param>
/// <param name="Only">Null for a normal batch; one key when a failed batch's items are retried one by one.</param>
/// <param name="Excluded">Keys that failed earlier in this run: not claimed again until the next run.</param>
internal sealed record BatchRequest<TKey>(int Worker, TKey[]? Only, TKey[] Excluded)
{
    /// <summary>The keys the processor claimed, added before it writes, so a failure can be narrowed down to one.</summary>
    public List<TKey> Claimed { get; } = [];

    /// <summary>Keys the processor claimed but could not handle (left as they were), and why.</summary>
    public List<(TKey Key, Exception Problem)> Rejected { get; } = [];

    public bool IsRetry => Only is not null;

    /// <summary>
    /// Adds <c>@only</c> and <c>@excluded</c> (arrays of <paramref name="keyType"/>) for a claim query filtering with
    /// <c>(@only IS NULL OR key = ANY (@only)) AND NOT (key = ANY (@excluded))</c>.
    /// </summary>
    public void AddParameters(NpgsqlCommand command, NpgsqlDbType keyType)
    {
        command.Parameters.Add(new NpgsqlParameter("only", NpgsqlDbType.Array | keyType) { Value = (object?)Only ?? DBNull.Value });
        command.Parameters.Add(new NpgsqlParameter("excluded", NpgsqlDbType.Array | keyType) { Value = Excluded });
    }
}

/// <summary>
/// The loop every claiming job shares: claim a batch (e.g. <c>FOR UPDATE SKIP LOCKED</c>) and write it in one
/// transaction, until a batch comes back short. When a batch fails after claiming, its items are retried one by one in
/// transactions of their own, so one bad row costs one item rather than the batch; an item that fails alone (or that
/// the processor rejects) is counted failed once and left for the next run. The loop counts what was found and what
/// failed; the processor counts what it completed or skipped.
/// </summary>
internal static partial class ClaimedBatches
{
    /// <summary>Processes one batch in one transaction; returns how many items it claimed.</summary>
    public delegate Task<int> Processor<TKey>(BatchRequest<TKey> request, CancellationToken cancellationToken);

    /// <param name="parallelism">Batches worked on at once, each on its own connection; SKIP LOCKED keeps them apart.</param>
    public static async Task RunAsync<TKey>(
        Processor<TKey> process,
        int batchSize,
        int parallelism,
        CronRunTally tally,
        ILogger logger,
        CancellationToken cancellationToken)
        where TKey : notnull
    {
        var found = new ConcurrentDictionary<TKey, bool>();
        var failed = new ConcurrentDictionary<TKey, bool>();

        void Report(BatchRequest<TKey> request)
        {
            tally.Add(found: request.Claimed.Count(key => found.TryAdd(key, true)));
            foreach (var (key, problem) in request.Rejected)
            {
                if (failed.TryAdd(key, true))
                {
                    tally.AddFailure(problem);
                }
            }
        }

        async Task WorkAsync(int worker)
        {
            while (true)
            {
                var request = new BatchRequest<TKey>(worker, null, [.. failed.Keys]);
                try
                {
                    var claimed = await process(request, cancellationToken);
                    Report(request);
                    if (claimed < batchSize)
                    {
                        return;
                    }
                }
                catch (Exception exception) when (request.Claimed.Count > 0 && !cancellationToken.IsCancellationRequested)
                {
                    Report(request);
                    tally.AddError(exception);
                    Log.BatchFailed(logger, request.Claimed.Count, exception);
                    foreach (var key in request.Claimed.Where(key => !failed.ContainsKey(key)))
                    {
                        await RetryAloneAsync(worker, key);
                    }
                }
            }
        }

        async Task RetryAloneAsync(int worker, TKey key)
        {
            var request = new BatchRequest<TKey>(worker, [key], []);
            try
            {
                await process(request, cancellationToken);
                Report(request);
            }
            catch (Exception exception) when (!cancellationToken.IsCancellationRequested)
            {
                request.Rejected.Add((key, exception));
                Report(request);
                Log.ItemFailed(logger, key.ToString(), exception);
            }
        }

        await Task.WhenAll(Enumerable.Range(0, parallelism).Select(WorkAsync));
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 6020, Level = LogLevel.Warning, Message = "A batch of {Count} claimed items failed; retrying them one by one")]
        public static partial void BatchFailed(ILogger logger, int count, Exception exception);

        [LoggerMessage(EventId = 6021, Level = LogLevel.Error, Message = "Item {Key} failed on its own; it is left for the next run")]
        public static partial void ItemFailed(ILogger logger, string? key, Exception exception);
    }
}
