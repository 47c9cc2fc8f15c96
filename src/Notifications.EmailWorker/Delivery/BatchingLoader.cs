using System.Threading.Channels;

namespace Notifications.EmailWorker.Delivery;

/// <summary>
/// Answers concurrent lookups of single keys with one query per group: whatever was asked while the previous query ran
/// goes into the next one. Under load, attempts running side by side share one round trip to the database; alone, a
/// lookup runs at once, adding no wait.
/// </summary>
internal sealed class BatchingLoader<TKey, TValue> : IAsyncDisposable where TKey : notnull
{
    private readonly Func<IReadOnlyCollection<TKey>, CancellationToken, Task<IReadOnlyDictionary<TKey, TValue>>> _load;
    private readonly int _maxBatchSize;
    private readonly Channel<Request> _requests = Channel.CreateUnbounded<Request>(new UnboundedChannelOptions { SingleReader = true });
    private readonly CancellationTokenSource _stopping = new();
    private readonly Task _loop;

    /// <param name="load">Looks up a group of distinct keys; keys it leaves out of its answer get <c>default</c>.</param>
    public BatchingLoader(Func<IReadOnlyCollection<TKey>, CancellationToken, Task<IReadOnlyDictionary<TKey, TValue>>> load, int maxBatchSize)
    {
        _load = load;
        _maxBatchSize = maxBatchSize;
        _loop = Task.Run(RunAsync);
    }

    public Task<TValue?> LoadAsync(TKey key, CancellationToken cancellationToken)
    {
        var request = new Request(key, new TaskCompletionSource<TValue?>(TaskCreationOptions.RunContinuationsAsynchronously));
        if (!_requests.Writer.TryWrite(request))
        {
            throw new ObjectDisposedException(nameof(BatchingLoader<TKey, TValue>));
        }
        return request.Result.Task.WaitAsync(cancellationToken);
    }

    private async Task RunAsync()
    {
        var group = new List<Request>(_maxBatchSize);
        try
        {
            while (await _requests.Reader.WaitToReadAsync(_stopping.Token))
            {
                group.Clear();
                while (group.Count < _maxBatchSize && _requests.Reader.TryRead(out var request))
                {
                    group.Add(request);
                }
                try
                {
                    var values = await _load([.. group.Select(request => request.Key).Distinct()], _stopping.Token);
                    foreach (var request in group)
                    {
                        request.Result.TrySetResult(values.GetValueOrDefault(request.Key));
                    }
                }
                catch (Exception exception)
                {
                    // Every lookup of the group shares the failure; the next group tries again.
                    foreach (var request in group)
                    {
                        request.Result.TrySetException(exception);
                    }
                }
            }
        }
        catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
        {
        }
        while (_requests.Reader.TryRead(out var request))
        {
            request.Result.TrySetCanceled(_stopping.Token);
        }
    }

    public async ValueTask DisposeAsync()
    {
        _requests.Writer.TryComplete();
        await _stopping.CancelAsync();
        await _loop;
        _stopping.Dispose();
    }

    private sealed record Request(TKey Key, TaskCompletionSource<TValue?> Result);
}
