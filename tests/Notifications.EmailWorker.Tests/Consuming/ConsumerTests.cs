using System.Diagnostics;
using Notifications.Domain.Messaging;
using Notifications.Domain.Model;
using Notifications.Domain.Redis;
using Notifications.EmailWorker.Consuming;
using Notifications.EmailWorker.Delivery;
using Notifications.EmailWorker.Tests.Support;
using StackExchange.Redis;

namespace Notifications.EmailWorker.Tests.Consuming;

/// <summary>The consumer around an attempt: claiming, skipping, acknowledging, reclaiming and stopping.</summary>
[Collection(WorkerTestCollection.Name)]
public sealed class ConsumerTests(TestServers servers)
{
    [Fact]
    public async Task EntryAppendedBeforeTheWorkerStarted_IsDeliveredOnce_JobSentWithItsLog_AndAcknowledged()
    {
        await using var context = await WorkerTestContext.CreateAsync(servers);
        var job = (await context.CreateJobsAsync(await context.CreateUserAsync(), 1)).Single();
        // Before the group exists: it is created from the stream's start, so this entry is not skipped.
        await context.AppendAsync(job);
        var deliverer = ScriptedDeliverer.Succeeding();

        await context.StartWorkerAsync(deliverer);

        await context.WaitForStatusAsync([job.Id], DeliveryJobStatus.Sent);
        await context.WaitUntilConsumedAsync();
        var sent = await context.JobAsync(job.Id);
        Assert.Equal(1, sent.Attempts);
        Assert.Equal($"msg-{job.Id:N}", sent.ProviderMessageId);
        Assert.NotNull(sent.ProcessedAt);
        var log = Assert.Single(await context.LogsAsync(job.Id));
        Assert.Equal((1, DeliveryOutcome.Sent, ScriptedDeliverer.Provider, 200), (log.Attempt, log.Outcome, log.Provider, log.HttpStatusCode));
        Assert.Equal("{\"id\":\"ok\"}", log.ResponseExcerpt);
        var call = Assert.Single(deliverer.Started);
        Assert.Equal(1, call.Number);
        Assert.Equal(job.UserId, call.Attempt.Recipient?.Id);
        Assert.Equal("Title 0", call.Attempt.Notification?.Title);
        Assert.Empty(await context.OutboxRowsAsync(job.Id));
    }

    [Fact]
    public async Task SameEntryAppendedTwice_SendsOnce_AndAcknowledgesBoth()
    {
        await using var context = await WorkerTestContext.CreateAsync(servers);
        var jobs = await context.CreateJobsAsync(await context.CreateUserAsync(), 3);
        var deliverer = ScriptedDeliverer.Succeeding();
        await context.StartWorkerAsync(deliverer);

        foreach (var job in jobs)
        {
            await context.AppendAsync(job);
        }
        await context.WaitForStatusAsync([.. jobs.Select(job => job.Id)], DeliveryJobStatus.Sent);
        // The relay appends at least once: the same jobs again, after they were sent.
        foreach (var job in jobs)
        {
            await context.AppendAsync(job);
        }

        await context.WaitUntilConsumedAsync();
        Assert.All(jobs, job => Assert.Equal(1, deliverer.CallsFor(job.Id)));
        foreach (var job in jobs)
        {
            Assert.Single(await context.LogsAsync(job.Id));
        }
    }

    [Fact]
    public async Task TwoEntriesOfOneJobInTheSameBatch_AreDeliveredOnce()
    {
        await using var context = await WorkerTestContext.CreateAsync(servers);
        var job = (await context.CreateJobsAsync(await context.CreateUserAsync(), 1)).Single();
        await context.AppendAsync(job);
        await context.AppendAsync(job);
        var deliverer = ScriptedDeliverer.Succeeding();

        await context.StartWorkerAsync(deliverer);

        await context.WaitForStatusAsync([job.Id], DeliveryJobStatus.Sent);
        await context.WaitUntilConsumedAsync();
        Assert.Equal(1, deliverer.CallsFor(job.Id));
    }

    [Theory]
    [InlineData(DeliveryJobStatus.Cancelled)]
    [InlineData(DeliveryJobStatus.Sent)]
    [InlineData(DeliveryJobStatus.Deferred)]
    [InlineData(DeliveryJobStatus.DigestPending)]
    public async Task JobNoLongerWaiting_IsNotAttempted_AndItsEntryIsAcknowledged(DeliveryJobStatus status)
    {
        await using var context = await WorkerTestContext.CreateAsync(servers);
        var userId = await context.CreateUserAsync();
        var skipped = (await context.CreateJobsAsync(userId, 1, status: status)).Single();
        var next = (await context.CreateJobsAsync(userId, 1)).Single();
        var deliverer = ScriptedDeliverer.Succeeding();
        await context.StartWorkerAsync(deliverer);

        await context.AppendAsync(skipped);
        await context.AppendAsync(next);

        await context.WaitForStatusAsync([next.Id], DeliveryJobStatus.Sent);
        await context.WaitUntilConsumedAsync();
        Assert.Equal(0, deliverer.CallsFor(skipped.Id));
        Assert.Equal(status, (await context.JobAsync(skipped.Id)).Status);
        Assert.Empty(await context.LogsAsync(skipped.Id));
    }

    [Fact]
    public async Task MalformedEntryAndUnknownJob_AreAcknowledged_WithoutBlockingTheStream()
    {
        await using var context = await WorkerTestContext.CreateAsync(servers);
        var job = (await context.CreateJobsAsync(await context.CreateUserAsync(), 1)).Single();
        var deliverer = ScriptedDeliverer.Succeeding();
        await context.StartWorkerAsync(deliverer);

        await context.AppendFieldsAsync(DeliveryChannel.Email, [new("job_id", "not-a-guid"), new("channel", "email")]);
        var unknown = new DeliveryJob
        {
            NotificationId = Guid.NewGuid(), UserId = "nobody", Channel = DeliveryChannel.Email, Status = DeliveryJobStatus.Queued,
            ScheduledFor = DateTimeOffset.UtcNow, CreatedAt = DateTimeOffset.UtcNow, UpdatedAt = DateTimeOffset.UtcNow,
        };
        await context.AppendAsync(unknown);
        await context.AppendAsync(job);

        await context.WaitForStatusAsync([job.Id], DeliveryJobStatus.Sent);
        await context.WaitUntilConsumedAsync();
        Assert.Single(deliverer.Started);
    }

    [Fact]
    public async Task DelivererThatThrows_CountsAsATransientFailureOfTheWorker_AndTheJobIsRetried()
    {
        await using var context = await WorkerTestContext.CreateAsync(servers);
        var job = (await context.CreateJobsAsync(await context.CreateUserAsync(), 1)).Single();
        var deliverer = new ScriptedDeliverer((_, _) => throw new InvalidOperationException("template missing"));
        await context.StartWorkerAsync(deliverer, new Dictionary<string, string?>
        {
            ["Worker:RetryBaseDelay"] = "00:01:00",
            ["Worker:RetryMaxDelay"] = "01:00:00",
        });

        await context.AppendAsync(job);

        await context.WaitForStatusAsync([job.Id], DeliveryJobStatus.Pending);
        var log = Assert.Single(await context.LogsAsync(job.Id));
        Assert.Equal((DeliveryOutcome.TransientFailure, ChannelConsumer.WorkerProvider), (log.Outcome, log.Provider));
        Assert.Equal("InvalidOperationException: template missing", log.Error);
        Assert.Single(await context.OutboxRowsAsync(job.Id));
    }

    [Fact]
    public async Task ConsumerKilledMidBatch_AnotherHostReclaimsItsEntries_NothingLostAndNothingSentTwice()
    {
        await using var context = await WorkerTestContext.CreateAsync(servers);
        var jobs = await context.CreateJobsAsync(await context.CreateUserAsync(), 8);
        var ids = jobs.Select(job => job.Id).ToList();
        // Short lease and idle time, so the survivor takes over within seconds.
        var settings = new Dictionary<string, string?>
        {
            ["Worker:Lease"] = "00:00:01",
            ["Worker:ReclaimMinIdle"] = "00:00:01",
            ["Worker:MaxConcurrency"] = "8",
        };
        var stuck = new ScriptedDeliverer(async (_, cancellationToken) =>
        {
            await Task.Delay(Timeout.Infinite, cancellationToken);
            throw new UnreachableException();
        });
        var dying = await context.StartWorkerAsync(stuck, settings);
        foreach (var job in jobs)
        {
            await context.AppendAsync(job);
        }
        await context.WaitUntilAsync(() => stuck.Started.Count == jobs.Count, "the first host is attempting every job");

        await dying.KillAsync();

        Assert.Equal(jobs.Count, await context.CountJobsAsync(ids, DeliveryJobStatus.Processing));
        Assert.Equal(jobs.Count, await context.PendingEntriesAsync(DeliveryChannel.Email));
        var survivor = ScriptedDeliverer.Succeeding();
        await context.StartWorkerAsync(survivor, settings);

        await context.WaitForStatusAsync(ids, DeliveryJobStatus.Sent);
        await context.WaitUntilConsumedAsync();
        Assert.Empty(stuck.Completed);
        Assert.All(ids, id => Assert.Equal(1, survivor.CallsFor(id)));
        foreach (var job in await context.JobsAsync(ids))
        {
            Assert.Equal(1, job.Attempts);
        }
    }

    [Fact]
    public async Task GracefulStop_LetsTheAttemptInFlightFinish_AndAcknowledgesIt()
    {
        await using var context = await WorkerTestContext.CreateAsync(servers);
        var userId = await context.CreateUserAsync();
        var jobs = await context.CreateJobsAsync(userId, 3);
        var slow = jobs[2];
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var deliverer = new ScriptedDeliverer(async (attempt, _) =>
        {
            if (attempt.Job.Id == slow.Id)
            {
                // Ignores cancellation: only the release lets it finish.
                await release.Task;
            }
            return new DeliveryResult.Sent(ScriptedDeliverer.Provider, null);
        });
        var host = await context.StartWorkerAsync(deliverer, new Dictionary<string, string?> { ["Worker:MaxConcurrency"] = "3" });
        foreach (var job in jobs)
        {
            await context.AppendAsync(job);
        }
        await context.WaitForStatusAsync([jobs[0].Id, jobs[1].Id], DeliveryJobStatus.Sent);
        await context.WaitUntilAsync(() => deliverer.CallsFor(slow.Id) == 1, "the slow attempt is in flight");

        var stopping = host.StopAsync();
        // Longer than a blocking read, so the one in progress at the stop has returned before the next append.
        await Task.Delay(TimeSpan.FromMilliseconds(500), WorkerTestContext.Cancellation);
        Assert.False(stopping.IsCompleted, "The host waits for the attempt in flight.");
        // Appended after the stop: not read any more.
        var late = (await context.CreateJobsAsync(userId, 1)).Single();
        await context.AppendAsync(late);
        release.SetResult();
        await stopping;

        Assert.Equal(DeliveryJobStatus.Sent, (await context.JobAsync(slow.Id)).Status);
        Assert.Equal(0, await context.PendingEntriesAsync(DeliveryChannel.Email));
        Assert.Equal(DeliveryJobStatus.Queued, (await context.JobAsync(late.Id)).Status);
        Assert.Equal(0, deliverer.CallsFor(late.Id));
    }

    [Fact]
    public async Task StopPastTheShutdownTimeout_AbandonsTheAttemptInFlight_UnacknowledgedForAnotherWorker()
    {
        await using var context = await WorkerTestContext.CreateAsync(servers);
        var jobs = await context.CreateJobsAsync(await context.CreateUserAsync(), 2);
        var hung = jobs[1];
        var deliverer = new ScriptedDeliverer(async (attempt, cancellationToken) =>
        {
            if (attempt.Job.Id == hung.Id)
            {
                await Task.Delay(Timeout.Infinite, cancellationToken);
            }
            return new DeliveryResult.Sent(ScriptedDeliverer.Provider, null);
        });
        var host = await context.StartWorkerAsync(deliverer, new Dictionary<string, string?> { ["Worker:MaxConcurrency"] = "2" },
            shutdownTimeout: TimeSpan.FromMilliseconds(500));
        foreach (var job in jobs)
        {
            await context.AppendAsync(job);
        }
        await context.WaitForStatusAsync([jobs[0].Id], DeliveryJobStatus.Sent);
        await context.WaitUntilAsync(() => deliverer.CallsFor(hung.Id) == 1, "the hung attempt is in flight");

        await host.StopAsync();

        await context.WaitUntilAsync(async () => await context.PendingEntriesAsync(DeliveryChannel.Email) == 1, "only the completed entry is acknowledged");
        Assert.Equal(DeliveryJobStatus.Processing, (await context.JobAsync(hung.Id)).Status);
        Assert.Empty(await context.LogsAsync(hung.Id));
    }

    [Fact]
    public async Task AcknowledgedEntries_AreTrimmedFromTheStream()
    {
        await using var context = await WorkerTestContext.CreateAsync(servers);
        var jobs = await context.CreateJobsAsync(await context.CreateUserAsync(), 300);
        await context.StartWorkerAsync(ScriptedDeliverer.Succeeding());

        foreach (var job in jobs)
        {
            await context.AppendAsync(job);
        }

        await context.WaitForStatusAsync([.. jobs.Select(job => job.Id)], DeliveryJobStatus.Sent);
        // Trimming is approximate (whole internal nodes of about 100 entries), and never past an unacknowledged entry.
        await context.WaitUntilAsync(
            async () => (long)await context.Redis.ExecuteAsync("XLEN", DeliveryStreams.For(DeliveryChannel.Email)) < 300,
            "acknowledged entries are trimmed");
        await context.WaitUntilConsumedAsync();
    }

    [Fact]
    public async Task RedisRestartedEmpty_TheConsumerCreatesItsGroupAgain_AndDeliversWhatIsAppendedAfterwards()
    {
        await using var context = await WorkerTestContext.CreateAsync(servers);
        var jobs = await context.CreateJobsAsync(await context.CreateUserAsync(), 2);
        var deliverer = ScriptedDeliverer.Succeeding();
        await context.StartWorkerAsync(deliverer);
        await context.AppendAsync(jobs[0]);
        await context.WaitForStatusAsync([jobs[0].Id], DeliveryJobStatus.Sent);

        // No persistence: the stream and its group are gone when it comes back.
        await context.RedisServer.StopAsync();
        await context.RedisServer.StartAsync();
        await context.WaitUntilAsync(async () =>
        {
            try
            {
                await context.AppendAsync(jobs[1]);
                return true;
            }
            catch (RedisException)
            {
                return false;
            }
        }, "the test's own connection is back");

        await context.WaitForStatusAsync([jobs[1].Id], DeliveryJobStatus.Sent);
        Assert.Equal(1, deliverer.CallsFor(jobs[1].Id));
    }

    [Fact]
    public async Task ConsumersOfEndedWorkers_WithNothingPending_AreRemoved_WhileRunningWorkersAndPendingEntriesStay()
    {
        await using var context = await WorkerTestContext.CreateAsync(servers);
        var jobs = await context.CreateJobsAsync(await context.CreateUserAsync(), 2);
        var stream = DeliveryStreams.For(DeliveryChannel.Email);
        await context.AppendAsync(jobs[0]);
        // Two ended workers: one whose entries were all acknowledged, one that left an entry pending.
        await context.Redis.ExecuteAsync("XGROUP", "CREATE", stream, DeliveryStreams.ConsumerGroup, "0");
        await context.Redis.ExecuteAsync("XGROUP", "CREATECONSUMER", stream, DeliveryStreams.ConsumerGroup, "ended-idle");
        await context.Redis.ExecuteAsync("XREADGROUP", "GROUP", DeliveryStreams.ConsumerGroup, "ended-with-pending", "COUNT", "1", "STREAMS", stream, ">");
        var settings = new Dictionary<string, string?>
        {
            ["Worker:IdleConsumerRemoval"] = "00:00:01",
            // The pending entry is not reclaimed during the test, so its consumer must be kept for it.
            ["Worker:ReclaimMinIdle"] = "01:00:00",
        };
        // Two running workers: the one that takes the job must be kept by the other's maintenance too.
        await context.StartWorkerAsync(ScriptedDeliverer.Succeeding(), settings);
        await context.StartWorkerAsync(ScriptedDeliverer.Succeeding(), settings);
        await context.AppendAsync(jobs[1]);
        await context.WaitForStatusAsync([jobs[1].Id], DeliveryJobStatus.Sent);

        await context.WaitUntilAsync(async () => !(await ConsumersAsync(context, stream)).ContainsKey("ended-idle"), "the ended worker's consumer is removed");
        // The running worker's consumer, silent since it took the job, stays past the idle time: it marks itself running.
        await Task.Delay(TimeSpan.FromSeconds(2), TestContext.Current.CancellationToken);

        var consumers = await ConsumersAsync(context, stream);
        Assert.Equal(1, consumers["ended-with-pending"]);
        var running = Assert.Single(consumers.Keys, name => name != "ended-with-pending");
        Assert.Equal(0, consumers[running]);
        Assert.True(await context.Redis.KeyExistsAsync(RedisKeys.WorkerAlive(running)));
        Assert.Equal(1, await context.PendingEntriesAsync(DeliveryChannel.Email));
    }

    /// <summary>The group's consumers and how many entries each has pending.</summary>
    private static async Task<Dictionary<string, long>> ConsumersAsync(WorkerTestContext context, string stream)
    {
        var consumers = (RedisResult[])(await context.Redis.ExecuteAsync("XINFO", "CONSUMERS", stream, DeliveryStreams.ConsumerGroup))!;
        return consumers.Select(consumer => (RedisResult[])consumer!)
            .ToDictionary(fields => (string)fields[1]!, fields => (long)fields[3]);
    }
}
