using Notifications.Domain.Model;
using Notifications.EmailWorker.Tests.Support;

namespace Notifications.EmailWorker.Tests.Consuming;

[Collection(WorkerTestCollection.Name)]
public sealed class RateLimitTests(TestServers servers)
{
    [Fact]
    public async Task SendRateLimit_HoldsAcrossTwoWorkerHosts()
    {
        const int limit = 20;
        const int jobCount = 80;
        await using var context = await WorkerTestContext.CreateAsync(servers);
        var jobs = await context.CreateJobsAsync(await context.CreateUserAsync(), jobCount);
        var settings = new Dictionary<string, string?>
        {
            ["Worker:SendRateLimit"] = limit.ToString(),
            ["Worker:MaxConcurrency"] = "10",
            // Small batches, so both hosts get a share of the entries.
            ["Worker:BatchSize"] = "10",
        };
        var first = ScriptedDeliverer.Succeeding();
        var second = ScriptedDeliverer.Succeeding();
        await context.StartWorkerAsync(first, settings);
        await context.StartWorkerAsync(second, settings);

        foreach (var job in jobs)
        {
            await context.AppendAsync(job);
        }

        await context.WaitForStatusAsync([.. jobs.Select(job => job.Id)], DeliveryJobStatus.Sent);
        Assert.NotEmpty(first.Started);
        Assert.NotEmpty(second.Started);
        var starts = first.Started.Concat(second.Started).Select(call => call.At).Order().ToList();
        Assert.Equal(jobCount, starts.Count);
        // 80 attempts at 20 a second need at least four one-second windows, so the first and the last attempt are more
        // than two seconds apart; two hosts limited separately (40 a second together) would need only two windows.
        Assert.True(starts[^1] - starts[0] > TimeSpan.FromSeconds(2), $"All {jobCount} attempts started within {starts[^1] - starts[0]}.");
    }
}
