using Notifications.Domain.Model;
using Notifications.EmailWorker.Consuming;
using Notifications.EmailWorker.Delivery;

namespace Notifications.EmailWorker.Tests.Consuming;

/// <summary>The rules from an attempt's result to the job's next state, without a database.</summary>
public sealed class JobOutcomesTests
{
    private const string TraceParent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
    private static readonly DateTimeOffset Now = new(2026, 5, 1, 12, 0, 0, TimeSpan.Zero);
    private static readonly DateTimeOffset ClaimedAt = Now.AddSeconds(-1);
    private readonly JobOutcomes _outcomes = new(maxAttempts: 5, retryBaseDelay: TimeSpan.FromSeconds(1), retryMaxDelay: TimeSpan.FromSeconds(30));

    [Theory]
    [InlineData(0, 2)]
    [InlineData(1, 4)]
    [InlineData(2, 8)]
    [InlineData(3, 16)]
    public void TransientFailure_WithAttemptsLeft_IsRetriedAfterTheJitteredBackoff(int attemptsBefore, int nominalSeconds)
    {
        var job = Job(attemptsBefore);

        var outcome = After(job, new DeliveryResult.TransientFailure("resend", "timeout"));

        Assert.Equal((OutcomeKind.Retried, DeliveryJobStatus.Pending, true), (outcome.Kind, outcome.Status, outcome.ChargesAttempt));
        // min(2^attempt × 1 s, 30 s), equal jitter: between half of it and all of it.
        Assert.InRange(outcome.ScheduledFor!.Value, Now.AddSeconds(nominalSeconds / 2.0), Now.AddSeconds(nominalSeconds));
        var retry = Assert.IsType<OutboxMessage>(outcome.Retry);
        Assert.Equal((outcome.ScheduledFor.Value, TraceParent, job.Id), (retry.AvailableAt, retry.TraceParent, retry.ToDeliveryMessage().JobId));
        Assert.Equal((attemptsBefore + 1, DeliveryOutcome.TransientFailure, "timeout"), (outcome.Log!.Attempt, outcome.Log.Outcome, outcome.Log.Error));
        Assert.Null(outcome.DeadLetter);
    }

    [Fact]
    public void Backoff_IsCappedAt30Seconds()
    {
        var outcome = _outcomes.After(Job(0), ClaimedAt, new DeliveryResult.TransientFailure("resend", "timeout"), TimeSpan.Zero, Now, null, null, new Random(1));
        var late = new JobOutcomes(maxAttempts: 20, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(30))
            .After(Job(10), ClaimedAt, new DeliveryResult.TransientFailure("resend", "timeout"), TimeSpan.Zero, Now, null, null, new Random(1));

        Assert.True(outcome.ScheduledFor <= Now.AddSeconds(2));
        Assert.InRange(late.ScheduledFor!.Value, Now.AddSeconds(15), Now.AddSeconds(30));
    }

    [Fact]
    public void RetryAfterLongerThanTheBackoff_Wins()
    {
        var outcome = After(Job(0), new DeliveryResult.TransientFailure("resend", "rate_limit_exceeded", TimeSpan.FromMinutes(2), 429));

        Assert.Equal(Now.AddMinutes(2), outcome.ScheduledFor);
        Assert.Equal(429, outcome.Log!.HttpStatusCode);
    }

    [Fact]
    public void TransientFailure_OnTheLastAttempt_DeadLettersAsTransient()
    {
        var outcome = After(Job(4), new DeliveryResult.TransientFailure("resend", "502 Bad Gateway", null, 502, "<html>bad gateway</html>"));

        Assert.Equal((OutcomeKind.DeadLettered, DeliveryJobStatus.Failed, true, "502 Bad Gateway"), (outcome.Kind, outcome.Status, outcome.ChargesAttempt, outcome.LastError));
        Assert.Equal(new DeadLetterDraft(DeliveryErrorType.Transient, 502, "<html>bad gateway</html>", "502 Bad Gateway"), outcome.DeadLetter);
        Assert.Null(outcome.Retry);
    }

    [Fact]
    public void PermanentFailure_DeadLettersOnTheFirstAttempt()
    {
        var outcome = After(Job(0), new DeliveryResult.PermanentFailure("resend", "validation_error", 422, "{}"));

        Assert.Equal((OutcomeKind.DeadLettered, DeliveryErrorType.Permanent), (outcome.Kind, outcome.DeadLetter!.ErrorType));
    }

    [Fact]
    public void QuotaExceeded_DefersUntilRetryAt_WithoutChargingAnAttempt()
    {
        var resetsAt = new DateTimeOffset(2026, 5, 2, 0, 0, 0, TimeSpan.Zero);

        var outcome = After(Job(2), new DeliveryResult.QuotaExceeded("resend", resetsAt, "daily quota reached"));

        Assert.Equal((OutcomeKind.Deferred, DeliveryJobStatus.Deferred, false, resetsAt), (outcome.Kind, outcome.Status, outcome.ChargesAttempt, outcome.ScheduledFor));
        Assert.Equal((3, DeliveryOutcome.QuotaExceeded), (outcome.Log!.Attempt, outcome.Log.Outcome));
        Assert.Null(outcome.Retry);
        Assert.Null(outcome.DeadLetter);
    }

    [Fact]
    public void Sent_RecordsTheProvidersMessageId()
    {
        var outcome = After(Job(1), new DeliveryResult.Sent("resend", "re_123", 200, "{\"id\":\"re_123\"}"), TimeSpan.FromMilliseconds(37));

        Assert.Equal((OutcomeKind.Sent, DeliveryJobStatus.Sent, Now, "re_123"), (outcome.Kind, outcome.Status, outcome.ProcessedAt, outcome.ProviderMessageId));
        Assert.Equal((2, 37L, "resend"), (outcome.Log!.Attempt, outcome.Log.DurationMs, outcome.Log.Provider));
    }

    [Fact]
    public void LongProviderAnswers_AreTruncated()
    {
        var outcome = After(Job(0), new DeliveryResult.PermanentFailure("resend", new string('e', 5000), 400, new string('r', 5000)));

        Assert.Equal(JobOutcomes.ExcerptMaxLength, outcome.Log!.ResponseExcerpt!.Length);
        Assert.Equal(JobOutcomes.ErrorMaxLength, outcome.DeadLetter!.ErrorMessage!.Length);
    }

    [Fact]
    public void Held_WaitsPendingUntilTheCircuitHalfOpens_WithoutLogOrCharge()
    {
        var until = Now.AddSeconds(30);

        var outcome = JobOutcomes.Held(Job(1), ClaimedAt, until, Now, TraceParent, null);

        Assert.Equal((OutcomeKind.Held, DeliveryJobStatus.Pending, false, until), (outcome.Kind, outcome.Status, outcome.ChargesAttempt, outcome.ScheduledFor));
        Assert.Null(outcome.Log);
        Assert.Equal(until, outcome.Retry!.AvailableAt);
    }

    private JobOutcome After(DeliveryJob job, DeliveryResult result, TimeSpan? duration = null) =>
        _outcomes.After(job, ClaimedAt, result, duration ?? TimeSpan.FromMilliseconds(5), Now, TraceParent, null, new Random(7));

    private static DeliveryJob Job(int attempts) => new()
    {
        NotificationId = Guid.NewGuid(),
        UserId = "user-1",
        Channel = DeliveryChannel.Email,
        Status = DeliveryJobStatus.Processing,
        Attempts = attempts,
        ScheduledFor = Now.AddMinutes(-1),
        CreatedAt = Now.AddMinutes(-1),
        UpdatedAt = ClaimedAt,
    };
}
