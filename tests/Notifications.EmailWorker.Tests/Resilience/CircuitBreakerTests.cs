using Microsoft.Extensions.Diagnostics.HealthChecks;
using Notifications.Domain.Model;
using Notifications.Domain.Redis;
using Notifications.Domain.Resilience;
using Notifications.EmailWorker.Delivery;
using Notifications.EmailWorker.Resilience;
using Notifications.EmailWorker.Tests.Support;

namespace Notifications.EmailWorker.Tests.Resilience;

[Collection(WorkerTestCollection.Name)]
public sealed class CircuitBreakerTests(TestServers servers)
{
    private const string Provider = ScriptedDeliverer.Provider;

    [Fact]
    public async Task RepeatedTransientFailures_OpenTheProvidersCircuit_JobsWaitUnattemptedAndUncharged_ThenATrialClosesIt()
    {
        await using var context = await WorkerTestContext.CreateAsync(servers);
        var userId = await context.CreateUserAsync();
        var jobs = await context.CreateJobsAsync(userId, 5);
        var failing = true;
        var deliverer = ScriptedDeliverer.Answering(_ => Volatile.Read(ref failing)
            ? new DeliveryResult.TransientFailure(Provider, "503 Service Unavailable", null, 503)
            : new DeliveryResult.Sent(Provider, "ok"));
        foreach (var job in jobs)
        {
            await context.AppendAsync(job);
        }
        var host = await context.StartWorkerAsync(deliverer, new Dictionary<string, string?>
        {
            // One attempt at a time, so exactly three fail before the circuit opens and the other two are held.
            ["Worker:MaxConcurrency"] = "1",
            ["Worker:RetryBaseDelay"] = "00:10:00",
            ["Worker:RetryMaxDelay"] = "01:00:00",
            ["Worker:CircuitBreaker:MinimumThroughput"] = "3",
            ["Worker:CircuitBreaker:FailureRatio"] = "0.5",
            ["Worker:CircuitBreaker:BreakDuration"] = "00:00:06",
        });

        await context.WaitForStatusAsync([.. jobs.Select(job => job.Id)], DeliveryJobStatus.Pending);
        Assert.Equal(3, deliverer.Started.Count);
        var (attempted, held) = (await context.JobsAsync(jobs.Select(job => job.Id))).ToList() switch
        {
            var all => (all.Where(job => job.Attempts == 1).ToList(), all.Where(job => job.Attempts == 0).ToList()),
        };
        Assert.Equal(3, attempted.Count);
        Assert.Equal(2, held.Count);
        var report = ProviderCircuitState.FromJson((string)(await context.Redis.StringGetAsync(RedisKeys.ProviderCircuit(Provider)))!);
        Assert.Equal(ProviderCircuitState.Open, report.State);
        var until = Assert.IsType<DateTimeOffset>(report.Until);
        Assert.True(await context.Redis.KeyTimeToLiveAsync(RedisKeys.ProviderCircuit(Provider)) > TimeSpan.Zero);
        foreach (var job in held)
        {
            // Not attempted: no log, no attempt charged; back through the outbox once the circuit half-opens.
            Assert.Empty(await context.LogsAsync(job.Id));
            Assert.Equal(until, job.ScheduledFor);
            Assert.Equal(until, Assert.Single(await context.OutboxRowsAsync(job.Id)).AvailableAt);
        }
        var health = await host.CheckHealthAsync();
        Assert.Equal(HealthStatus.Degraded, health.Entries[CircuitBreakerHealthCheck.Name].Status);
        Assert.Contains(Provider, health.Entries[CircuitBreakerHealthCheck.Name].Description);

        // While open, the channel's stream is not even read (once the blocking read in progress when it opened is over).
        await Task.Delay(TimeSpan.FromMilliseconds(500), WorkerTestContext.Cancellation);
        var whileOpen = (await context.CreateJobsAsync(userId, 1)).Single();
        await context.AppendAsync(whileOpen);
        await Task.Delay(TimeSpan.FromMilliseconds(500), WorkerTestContext.Cancellation);
        Assert.True(DateTimeOffset.UtcNow < until, "The check ran while the circuit was open.");
        Assert.Equal(3, deliverer.Started.Count);
        Assert.Equal(DeliveryJobStatus.Queued, (await context.JobAsync(whileOpen.Id)).Status);

        // The provider recovers: once the break is over the next attempt is the trial, and it closes the circuit.
        Volatile.Write(ref failing, false);
        await context.WaitForStatusAsync([whileOpen.Id], DeliveryJobStatus.Sent);
        Assert.True(DateTimeOffset.UtcNow >= until);
        await context.WaitUntilAsync(async () => (await host.CheckHealthAsync()).Entries[CircuitBreakerHealthCheck.Name].Status == HealthStatus.Healthy,
            "the worker reports its circuits closed");
        report = ProviderCircuitState.FromJson((string)(await context.Redis.StringGetAsync(RedisKeys.ProviderCircuit(Provider)))!);
        Assert.Equal(ProviderCircuitState.Closed, report.State);

        // The held and the failed jobs go out when the relay hands them back.
        foreach (var job in jobs)
        {
            await context.AppendAsync(Assert.Single(await context.OutboxRowsAsync(job.Id)));
        }
        await context.WaitForStatusAsync([.. jobs.Select(job => job.Id)], DeliveryJobStatus.Sent);
        foreach (var job in await context.JobsAsync(held.Select(job => job.Id)))
        {
            Assert.Equal(1, job.Attempts);
        }
    }
}
