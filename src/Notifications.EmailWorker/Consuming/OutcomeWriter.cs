using System.Threading.Channels;
using Notifications.Domain.Resilience;
using StackExchange.Redis;

namespace Notifications.EmailWorker.Consuming;

/// <summary>
/// Writes the outcomes of one channel's attempts as they complete, many per transaction: whatever has completed while
/// the previous transaction ran goes into the next one (group commit), so a fast provider costs one transaction per
/// group, not per job, and a slow job never holds back the others. After the commit it acknowledges the entries of the
/// outcomes written; an outcome that could not be written leaves its entry pending, to be reclaimed later.
/// </summary>
internal sealed partial class OutcomeWriter(JobStore store, DeliveryStream stream, TimeProvider timeProvider, ILogger logger)
{
    private const int MaxGroupSize = 500;
    private static readonly ExponentialBackoff WriteRetryDelay = new(TimeSpan.FromMilliseconds(100), TimeSpan.FromSeconds(1));
    private const int WriteAttempts = 3;

    private readonly Channel<PendingWrite> _queue = Channel.CreateUnbounded<PendingWrite>(new UnboundedChannelOptions { SingleReader = true });
    private Task _loop = Task.CompletedTask;

    /// <summary>Starts writing; <paramref name="abort"/> ends it without writing what is still queued.</summary>
    public void Start(CancellationToken abort) => _loop = RunAsync(abort);

    /// <summary>
    /// Queues an outcome; completes once it is committed and <paramref name="entryId"/> acknowledged (true), or once it
    /// turned out the job no longer carried this worker's claim, so nothing was written (false). Faults when the
    /// transaction failed.
    /// </summary>
    public Task<bool> WriteAsync(JobOutcome outcome, string entryId)
    {
        var pending = new PendingWrite(outcome, entryId, new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously));
        if (!_queue.Writer.TryWrite(pending))
        {
            pending.Completion.SetException(new InvalidOperationException("The outcome writer has stopped."));
        }
        return pending.Completion.Task;
    }

    /// <summary>Writes what is queued, then stops.</summary>
    public async Task CompleteAsync()
    {
        _queue.Writer.TryComplete();
        await _loop;
    }

    private async Task RunAsync(CancellationToken abort)
    {
        var group = new List<PendingWrite>(MaxGroupSize);
        try
        {
            while (await _queue.Reader.WaitToReadAsync(abort))
            {
                group.Clear();
                while (group.Count < MaxGroupSize && _queue.Reader.TryRead(out var pending))
                {
                    group.Add(pending);
                }
                await WriteGroupAsync(group, abort);
            }
        }
        catch (OperationCanceledException) when (abort.IsCancellationRequested)
        {
            foreach (var pending in group)
            {
                pending.Completion.TrySetCanceled(abort);
            }
            while (_queue.Reader.TryRead(out var pending))
            {
                pending.Completion.TrySetCanceled(abort);
            }
        }
    }

    private async Task WriteGroupAsync(List<PendingWrite> group, CancellationToken abort)
    {
        var outcomes = group.Select(pending => pending.Outcome).ToList();
        HashSet<Guid>? written = null;
        for (var attempt = 1; written is null; attempt++)
        {
            try
            {
                written = await store.WriteOutcomesAsync(outcomes, timeProvider.GetUtcNow(), abort);
            }
            catch (Exception exception) when (exception is not OperationCanceledException || !abort.IsCancellationRequested)
            {
                if (attempt == WriteAttempts)
                {
                    Log.WriteFailed(logger, group.Count, stream.Name, exception);
                    foreach (var pending in group)
                    {
                        pending.Completion.TrySetException(exception);
                    }
                    return;
                }
                await Task.Delay(WriteRetryDelay.DelayAfter(attempt), timeProvider, abort);
            }
        }

        var acknowledged = group.Where(pending => written.Contains(pending.Outcome.Job.Id)).Select(pending => pending.EntryId).ToList();
        try
        {
            await stream.AcknowledgeAsync(acknowledged, abort);
        }
        catch (Exception exception) when (exception is RedisException or TimeoutException)
        {
            // The outcomes stand; the entries are reclaimed later and then skipped, their jobs being done.
            Log.AcknowledgeFailed(logger, acknowledged.Count, stream.Name, exception);
        }
        foreach (var pending in group)
        {
            pending.Completion.TrySetResult(written.Contains(pending.Outcome.Job.Id));
        }
    }

    private sealed record PendingWrite(JobOutcome Outcome, string EntryId, TaskCompletionSource<bool> Completion);

    private static partial class Log
    {
        [LoggerMessage(EventId = 5050, Level = LogLevel.Error,
            Message = "Could not write the outcomes of {Count} jobs of {Stream}; their entries stay pending and are reclaimed later")]
        public static partial void WriteFailed(ILogger logger, int count, string stream, Exception exception);

        [LoggerMessage(EventId = 5051, Level = LogLevel.Warning,
            Message = "Could not acknowledge {Count} entries of {Stream} whose outcomes are written; they are reclaimed and skipped later")]
        public static partial void AcknowledgeFailed(ILogger logger, int count, string stream, Exception exception);
    }
}
