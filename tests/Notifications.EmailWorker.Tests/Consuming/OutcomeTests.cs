using Microsoft.EntityFrameworkCore;
using Notifications.Domain.Model;
using Notifications.EmailWorker.Delivery;
using Notifications.EmailWorker.Tests.Support;

namespace Notifications.EmailWorker.Tests.Consuming;

/// <summary>What each kind of result does to the job: retries through the outbox, dead letters, deferrals, skips.</summary>
[Collection(WorkerTestCollection.Name)]
public sealed class OutcomeTests(TestServers servers)
{
    private const string Provider = ScriptedDeliverer.Provider;

    [Fact]
    public async Task TransientFailure_SchedulesTheRetryAsPendingWithAnOutboxRowDueAfterRetryAfter_ThenTheRetrySends()
    {
        await using var context = await WorkerTestContext.CreateAsync(servers);
        var job = (await context.CreateJobsAsync(await context.CreateUserAsync(), 1)).Single();
        var deliverer = ScriptedDeliverer.Answering(attempt => attempt.Number == 1
            ? new DeliveryResult.TransientFailure(Provider, "rate_limit_exceeded", TimeSpan.FromSeconds(45), 429, "{\"name\":\"rate_limit_exceeded\"}")
            : new DeliveryResult.Sent(Provider, "second-time-lucky", 200));
        await context.StartWorkerAsync(deliverer);

        var before = DateTimeOffset.UtcNow;
        await context.AppendAsync(job, "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01");
        await context.WaitForStatusAsync([job.Id], DeliveryJobStatus.Pending);

        var pending = await context.JobAsync(job.Id);
        Assert.Equal(1, pending.Attempts);
        Assert.Equal("rate_limit_exceeded", pending.LastError);
        // Retry-After (45 s) is longer than the back-off (2 × 10 ms here), so it decides.
        Assert.InRange(pending.ScheduledFor, before.AddSeconds(45), DateTimeOffset.UtcNow.AddSeconds(46));
        var retry = Assert.Single(await context.OutboxRowsAsync(job.Id));
        Assert.Equal(pending.ScheduledFor, retry.AvailableAt);
        Assert.Null(retry.DispatchedAt);
        Assert.Equal(DeliveryChannel.Email, retry.Channel);
        // The retry stays in the request's trace.
        Assert.StartsWith("00-0af7651916cd43dd8448eb211c80319c-", retry.TraceParent);
        var failure = Assert.Single(await context.LogsAsync(job.Id));
        Assert.Equal((DeliveryOutcome.TransientFailure, 429, "rate_limit_exceeded"), (failure.Outcome, failure.HttpStatusCode, failure.Error));
        await context.WaitUntilConsumedAsync();

        // The relay appends the row once due.
        await context.AppendAsync(retry);

        await context.WaitForStatusAsync([job.Id], DeliveryJobStatus.Sent);
        var sent = await context.JobAsync(job.Id);
        Assert.Equal(2, sent.Attempts);
        Assert.Equal("second-time-lucky", sent.ProviderMessageId);
        Assert.Equal([1, 2], (await context.LogsAsync(job.Id)).Select(log => log.Attempt));
        Assert.Equal([1, 2], deliverer.Started.Select(call => call.Number));
        Assert.Null(await context.DeadLetterAsync(job.Id));
    }

    [Fact]
    public async Task TransientFailureWithoutRetryAfter_WaitsTheJitteredBackoff()
    {
        await using var context = await WorkerTestContext.CreateAsync(servers);
        var job = (await context.CreateJobsAsync(await context.CreateUserAsync(), 1)).Single();
        var deliverer = ScriptedDeliverer.Answering(_ => new DeliveryResult.TransientFailure(Provider, "timeout"));
        await context.StartWorkerAsync(deliverer, new Dictionary<string, string?> { ["Worker:RetryBaseDelay"] = "00:00:10" });

        var before = DateTimeOffset.UtcNow;
        await context.AppendAsync(job);
        await context.WaitForStatusAsync([job.Id], DeliveryJobStatus.Pending);

        // After attempt 1: 2^1 × 10 s = 20 s, with equal jitter between half of it and all of it.
        var pending = await context.JobAsync(job.Id);
        Assert.InRange(pending.ScheduledFor, before.AddSeconds(10), DateTimeOffset.UtcNow.AddSeconds(20));
        Assert.Equal(pending.ScheduledFor, Assert.Single(await context.OutboxRowsAsync(job.Id)).AvailableAt);
    }

    [Fact]
    public async Task TransientFailures_UpToMaxAttempts_DeadLetterTheJobWithItsAttemptHistory()
    {
        await using var context = await WorkerTestContext.CreateAsync(servers);
        var job = (await context.CreateJobsAsync(await context.CreateUserAsync(), 1)).Single();
        var deliverer = ScriptedDeliverer.Answering(attempt =>
            new DeliveryResult.TransientFailure(Provider, $"503 on attempt {attempt.Number}", null, 503, "upstream unavailable"));
        await context.StartWorkerAsync(deliverer, new Dictionary<string, string?> { ["Worker:MaxAttempts"] = "3" });

        await context.AppendAsync(job);
        for (var attempt = 1; attempt < 3; attempt++)
        {
            await context.WaitUntilAsync(async () => (await context.OutboxRowsAsync(job.Id)).Count == attempt, $"retry {attempt} is scheduled");
            Assert.Equal(DeliveryJobStatus.Pending, (await context.JobAsync(job.Id)).Status);
            await context.AppendAsync((await context.OutboxRowsAsync(job.Id)).Last());
        }

        await context.WaitForStatusAsync([job.Id], DeliveryJobStatus.Failed);
        var failed = await context.JobAsync(job.Id);
        Assert.Equal(3, failed.Attempts);
        Assert.Equal("503 on attempt 3", failed.LastError);
        Assert.Equal(2, (await context.OutboxRowsAsync(job.Id)).Count);
        var deadLetter = Assert.IsType<DeadLetter>(await context.DeadLetterAsync(job.Id));
        Assert.Equal((DeliveryErrorType.Transient, 503, "upstream unavailable", "503 on attempt 3", DeliveryChannel.Email),
            (deadLetter.ErrorType, deadLetter.HttpStatusCode, deadLetter.ProviderResponse, deadLetter.ErrorMessage, deadLetter.Channel));
        Assert.Null(deadLetter.RequeuedAt);
        var history = deadLetter.AttemptHistory.RootElement.EnumerateArray().ToList();
        Assert.Equal([1, 2, 3], history.Select(entry => entry.GetProperty("attempt").GetInt32()));
        Assert.All(history, entry =>
        {
            Assert.Equal("transient_failure", entry.GetProperty("outcome").GetString());
            Assert.Equal(503, entry.GetProperty("httpStatusCode").GetInt32());
            Assert.Equal(Provider, entry.GetProperty("provider").GetString());
        });
        Assert.Equal("503 on attempt 2", history[1].GetProperty("error").GetString());
        await context.WaitUntilConsumedAsync();
    }

    [Fact]
    public async Task PermanentFailure_DeadLettersAtOnce()
    {
        await using var context = await WorkerTestContext.CreateAsync(servers);
        var job = (await context.CreateJobsAsync(await context.CreateUserAsync(), 1)).Single();
        const string response = """{"statusCode":422,"name":"validation_error","message":"Invalid `to` field."}""";
        var deliverer = ScriptedDeliverer.Answering(_ => new DeliveryResult.PermanentFailure(Provider, "validation_error: Invalid `to` field.", 422, response));
        await context.StartWorkerAsync(deliverer);

        await context.AppendAsync(job);

        await context.WaitForStatusAsync([job.Id], DeliveryJobStatus.Failed);
        Assert.Equal(1, (await context.JobAsync(job.Id)).Attempts);
        var deadLetter = Assert.IsType<DeadLetter>(await context.DeadLetterAsync(job.Id));
        Assert.Equal((DeliveryErrorType.Permanent, 422, response), (deadLetter.ErrorType, deadLetter.HttpStatusCode, deadLetter.ProviderResponse));
        Assert.Equal("permanent_failure", Assert.Single(deadLetter.AttemptHistory.RootElement.EnumerateArray()).GetProperty("outcome").GetString());
        Assert.Empty(await context.OutboxRowsAsync(job.Id));
        Assert.Single(deliverer.Started);
    }

    [Fact]
    public async Task QuotaExceeded_DefersTheJobUntilTheWindowResets_WithoutChargingAnAttemptOrAnOutboxRow()
    {
        await using var context = await WorkerTestContext.CreateAsync(servers);
        var job = (await context.CreateJobsAsync(await context.CreateUserAsync(), 1)).Single();
        var resetsAt = new DateTimeOffset(DateTime.UtcNow.Date.AddDays(1), TimeSpan.Zero);
        var deliverer = ScriptedDeliverer.Answering(_ => new DeliveryResult.QuotaExceeded(Provider, resetsAt, "daily quota of 100 emails reached"));
        await context.StartWorkerAsync(deliverer);

        await context.AppendAsync(job);

        await context.WaitForStatusAsync([job.Id], DeliveryJobStatus.Deferred);
        var deferred = await context.JobAsync(job.Id);
        Assert.Equal(0, deferred.Attempts);
        Assert.Equal(resetsAt, deferred.ScheduledFor);
        var log = Assert.Single(await context.LogsAsync(job.Id));
        Assert.Equal((DeliveryOutcome.QuotaExceeded, 1, "daily quota of 100 emails reached"), (log.Outcome, log.Attempt, log.Error));
        Assert.Empty(await context.OutboxRowsAsync(job.Id));
        Assert.Null(await context.DeadLetterAsync(job.Id));
        await context.WaitUntilConsumedAsync();
    }

    [Fact]
    public async Task Skipped_CancelsTheJobWithTheReason()
    {
        await using var context = await WorkerTestContext.CreateAsync(servers);
        var job = (await context.CreateJobsAsync(await context.CreateUserAsync(), 1)).Single();
        var deliverer = ScriptedDeliverer.Answering(_ => new DeliveryResult.Skipped(Provider, "The user turned email off."));
        await context.StartWorkerAsync(deliverer);

        await context.AppendAsync(job);

        await context.WaitForStatusAsync([job.Id], DeliveryJobStatus.Cancelled);
        var cancelled = await context.JobAsync(job.Id);
        Assert.Equal((0, "The user turned email off."), (cancelled.Attempts, cancelled.LastError));
        Assert.Equal(DeliveryOutcome.Skipped, Assert.Single(await context.LogsAsync(job.Id)).Outcome);
    }

    [Fact]
    public async Task RequeuedJobDeadLetteredAgain_UpdatesItsDeadLetter()
    {
        await using var context = await WorkerTestContext.CreateAsync(servers);
        var job = (await context.CreateJobsAsync(await context.CreateUserAsync(), 1)).Single();
        var deliverer = ScriptedDeliverer.Answering(attempt => new DeliveryResult.PermanentFailure(Provider, $"refused {attempt.Number}", 400));
        await context.StartWorkerAsync(deliverer);
        await context.AppendAsync(job);
        await context.WaitForStatusAsync([job.Id], DeliveryJobStatus.Failed);
        var first = Assert.IsType<DeadLetter>(await context.DeadLetterAsync(job.Id));
        // What the DLQ requeue does: the job queued again with its attempts reset, the dead letter marked requeued.
        await using (var db = TestDatabase.CreateContext(context.Database))
        {
            await db.Database.ExecuteSqlAsync(
                $"UPDATE delivery_jobs SET status = 'queued', attempts = 0 WHERE id = {job.Id}", WorkerTestContext.Cancellation);
            await db.Database.ExecuteSqlAsync(
                $"UPDATE dead_letters SET requeued_at = now(), requeue_count = 1 WHERE job_id = {job.Id}", WorkerTestContext.Cancellation);
        }

        await context.AppendAsync(job);

        await context.WaitUntilAsync(async () => (await context.DeadLetterAsync(job.Id))?.RequeuedAt is null, "the job is dead-lettered again");
        var second = Assert.IsType<DeadLetter>(await context.DeadLetterAsync(job.Id));
        Assert.Equal(first.Id, second.Id);
        Assert.Equal(1, second.RequeueCount);
        Assert.Equal("refused 1", second.ErrorMessage);
        Assert.Equal(2, second.AttemptHistory.RootElement.GetArrayLength());
        Assert.True(second.UpdatedAt > first.UpdatedAt);
    }
}
