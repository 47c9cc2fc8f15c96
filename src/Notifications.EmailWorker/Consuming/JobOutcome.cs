using Notifications.Domain.Model;
using Notifications.Domain.Resilience;
using Notifications.EmailWorker.Delivery;

namespace Notifications.EmailWorker.Consuming;

/// <summary>What becomes of a claimed job, as the metrics and logs name it.</summary>
internal enum OutcomeKind
{
    Sent,

    /// <summary>A transient failure with attempts left: <c>pending</c>, retried through the outbox.</summary>
    Retried,

    DeadLettered,

    /// <summary>Quota exhausted: <c>deferred</c> until the window resets, no attempt charged.</summary>
    Deferred,

    /// <summary>Not attempted on purpose: <c>cancelled</c>.</summary>
    Skipped,

    /// <summary>Not attempted because its provider's circuit is open: <c>pending</c> until it half-opens, no attempt charged.</summary>
    Held,
}

/// <summary>The dead letter a job gets (upserted on its job id; the attempt history is built from its delivery logs).</summary>
internal sealed record DeadLetterDraft(DeliveryErrorType ErrorType, int? HttpStatusCode, string? ProviderResponse, string? ErrorMessage);

/// <summary>
/// A claimed job's new state, written in one transaction: the job row (only while this worker's claim still holds, i.e.
/// status <c>processing</c> and <c>updated_at</c> = <see cref="ClaimedAt"/>), its delivery log, the outbox row of a
/// scheduled retry, and its dead letter.
/// </summary>
internal sealed record JobOutcome(
    OutcomeKind Kind,
    DeliveryJob Job,
    DateTimeOffset ClaimedAt,
    DeliveryJobStatus Status,
    bool ChargesAttempt,
    DateTimeOffset? ScheduledFor,
    DateTimeOffset? ProcessedAt,
    string? ProviderMessageId,
    string? LastError,
    DeliveryLog? Log,
    OutboxMessage? Retry,
    DeadLetterDraft? DeadLetter);

/// <summary>The rules that turn an attempt's result into the job's next state.</summary>
internal sealed class JobOutcomes(int maxAttempts, TimeSpan retryBaseDelay, TimeSpan retryMaxDelay)
{
    /// <summary>Operators read the start of a provider's answer; the rest only bloats the tables.</summary>
    public const int ExcerptMaxLength = 1000;

    public const int ErrorMaxLength = 2000;

    // Retry n waits min(2^n × base, max): the first delay is twice the base.
    private readonly ExponentialBackoff _backoff = new(retryBaseDelay * 2, retryMaxDelay);

    public static JobOutcomes From(WorkerOptions options) => new(options.MaxAttempts, options.RetryBaseDelay, options.RetryMaxDelay);

    /// <param name="job">The job as claimed (its <c>Attempts</c> are those made before this one).</param>
    /// <param name="traceParent">The trace context the retry's outbox row carries, so its attempt joins the same trace.</param>
    public JobOutcome After(
        DeliveryJob job, DateTimeOffset claimedAt, DeliveryResult result, TimeSpan duration, DateTimeOffset now,
        string? traceParent, string? traceState, Random random)
    {
        var attempt = job.Attempts + 1;
        var log = new DeliveryLog
        {
            JobId = job.Id,
            Attempt = attempt,
            Channel = job.Channel,
            Provider = result.Provider,
            Outcome = result.Outcome,
            HttpStatusCode = result.HttpStatusCode,
            ResponseExcerpt = Truncate(result.ResponseExcerpt, ExcerptMaxLength),
            DurationMs = Math.Max(0, (long)duration.TotalMilliseconds),
            Error = Truncate(ErrorOf(result), ErrorMaxLength),
            CreatedAt = now,
        };

        switch (result)
        {
            case DeliveryResult.Sent sent:
                return new JobOutcome(OutcomeKind.Sent, job, claimedAt, DeliveryJobStatus.Sent, ChargesAttempt: true,
                    ScheduledFor: null, ProcessedAt: now, sent.ProviderMessageId, LastError: null, log, Retry: null, DeadLetter: null);

            case DeliveryResult.TransientFailure failure when attempt < maxAttempts:
                var backoff = _backoff.WithJitter(attempt, random);
                var due = now + (failure.RetryAfter is { } retryAfter && retryAfter > backoff ? retryAfter : backoff);
                // The outbox row hands the job to the workers again once due; the job row says when, for operators.
                return new JobOutcome(OutcomeKind.Retried, job, claimedAt, DeliveryJobStatus.Pending, ChargesAttempt: true,
                    due, ProcessedAt: null, ProviderMessageId: null, log.Error, log,
                    OutboxMessage.For(job, traceParent, traceState, now, due), DeadLetter: null);

            case DeliveryResult.TransientFailure failure:
                return DeadLettered(job, claimedAt, DeliveryErrorType.Transient, failure, log);

            case DeliveryResult.PermanentFailure failure:
                return DeadLettered(job, claimedAt, DeliveryErrorType.Permanent, failure, log);

            case DeliveryResult.QuotaExceeded quota:
                // The scheduler's deferred-release moves it back to queued once the window has reset.
                return new JobOutcome(OutcomeKind.Deferred, job, claimedAt, DeliveryJobStatus.Deferred, ChargesAttempt: false,
                    quota.RetryAt, ProcessedAt: null, ProviderMessageId: null, log.Error, log, Retry: null, DeadLetter: null);

            case DeliveryResult.Skipped skipped:
                return new JobOutcome(OutcomeKind.Skipped, job, claimedAt, DeliveryJobStatus.Cancelled, ChargesAttempt: false,
                    ScheduledFor: null, ProcessedAt: null, ProviderMessageId: null, Truncate(skipped.Reason, ErrorMaxLength), log,
                    Retry: null, DeadLetter: null);

            default:
                throw new ArgumentOutOfRangeException(nameof(result), result, "Not a known delivery result.");
        }
    }

    /// <summary>
    /// The job was not attempted because a provider it needs is not being called until <paramref name="until"/>: it
    /// waits as <c>pending</c> with an outbox row due then, without a delivery log or a charged attempt.
    /// </summary>
    public static JobOutcome Held(
        DeliveryJob job, DateTimeOffset claimedAt, DateTimeOffset until, DateTimeOffset now,
        string? traceParent, string? traceState) =>
        new(OutcomeKind.Held, job, claimedAt, DeliveryJobStatus.Pending, ChargesAttempt: false,
            until, ProcessedAt: null, ProviderMessageId: null, LastError: null, Log: null,
            OutboxMessage.For(job, traceParent, traceState, now, until), DeadLetter: null);

    private static JobOutcome DeadLettered(DeliveryJob job, DateTimeOffset claimedAt, DeliveryErrorType errorType, DeliveryResult result, DeliveryLog log) =>
        new(OutcomeKind.DeadLettered, job, claimedAt, DeliveryJobStatus.Failed, ChargesAttempt: true,
            ScheduledFor: null, ProcessedAt: null, ProviderMessageId: null, log.Error, log, Retry: null,
            new DeadLetterDraft(errorType, result.HttpStatusCode, log.ResponseExcerpt, log.Error));

    private static string? ErrorOf(DeliveryResult result) => result switch
    {
        DeliveryResult.TransientFailure failure => failure.Error,
        DeliveryResult.PermanentFailure failure => failure.Error,
        DeliveryResult.QuotaExceeded quota => quota.Reason,
        DeliveryResult.Skipped skipped => skipped.Reason,
        _ => null,
    };

    internal static string? Truncate(string? text, int maxLength) =>
        text is null || text.Length <= maxLength ? text : text[..maxLength];
}
