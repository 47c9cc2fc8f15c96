using System.Collections.Concurrent;
using Notifications.EmailWorker.Delivery;

namespace Notifications.EmailWorker.Tests.Consuming;

public sealed class BatchingLoaderTests
{
    [Fact]
    public async Task LookupsMadeWhileAQueryRuns_GoTogetherIntoTheNextQuery()
    {
        var groups = new ConcurrentQueue<IReadOnlyCollection<int>>();
        var firstQueryStarted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var releaseFirstQuery = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var loader = new BatchingLoader<int, string>(async (keys, _) =>
        {
            groups.Enqueue(keys);
            if (groups.Count == 1)
            {
                firstQueryStarted.SetResult();
                await releaseFirstQuery.Task;
            }
            return keys.ToDictionary(key => key, key => $"value {key}");
        }, maxBatchSize: 100);

        var first = loader.LoadAsync(1, TestContext.Current.CancellationToken);
        await firstQueryStarted.Task;
        var waiting = Enumerable.Range(2, 5).Select(key => loader.LoadAsync(key, TestContext.Current.CancellationToken)).ToList();
        var repeated = loader.LoadAsync(2, TestContext.Current.CancellationToken);
        releaseFirstQuery.SetResult();

        Assert.Equal("value 1", await first);
        Assert.Equal(new string?[] { "value 2", "value 3", "value 4", "value 5", "value 6" }, await Task.WhenAll(waiting));
        Assert.Equal("value 2", await repeated);
        Assert.Equal([[1], [2, 3, 4, 5, 6]], groups.Select(group => group.Order().ToArray()));
    }

    [Fact]
    public async Task AFailedQuery_FailsItsGroupOnly_AndAMissingKeyGetsDefault()
    {
        var calls = 0;
        await using var loader = new BatchingLoader<string, int>((keys, _) =>
            Interlocked.Increment(ref calls) == 1
                ? throw new TimeoutException("database timeout")
                : Task.FromResult<IReadOnlyDictionary<string, int>>(new Dictionary<string, int> { ["known"] = 3 }), maxBatchSize: 10);

        await Assert.ThrowsAsync<TimeoutException>(() => loader.LoadAsync("known", TestContext.Current.CancellationToken));

        Assert.Equal(3, await loader.LoadAsync("known", TestContext.Current.CancellationToken));
        Assert.Equal(0, await loader.LoadAsync("unknown", TestContext.Current.CancellationToken));
    }
}
