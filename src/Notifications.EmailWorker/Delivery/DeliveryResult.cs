using Notifications.Domain.Model;

namespace Notifications.EmailWorker.Delivery;

/// <summary>
/// What one attempt came to. <see cref="Provider"/> names who was called (<c>resend</c>, <c>smtp</c>, <c>dev-mailbox</c>,
/// <c>redis</c>, <c>ably</c>); <see cref="HttpStatusCode"/> and <see cref="ResponseExcerpt"/> are what operators see in
/// the delivery log and the dead-letter queue.
/// </summary>
public abstract record DeliveryResult(string Provider, int? HttpStatusCode, string? ResponseExcerpt)
{
    public abstract DeliveryOutcome Outcome { get; }

    /// <summary>Delivered; the job becomes <c>sent</c>.</summary>
    public sealed record Sent(string Provider, string? ProviderMessageId, int? HttpStatusCode = null, string? ResponseExcerpt = null)
        : DeliveryResult(Provider, HttpStatusCode, ResponseExcerpt)
    {
        public override DeliveryOutcome Outcome => DeliveryOutcome.Sent;
    }

    /// <summary>
    /// Timeout, connection error, 429 or 5xx: retried with back-off, no sooner than <see cref="RetryAfter"/> when the
    /// provider said so; dead-lettered once the attempts run out.
    /// </summary>
    public sealed record TransientFailure(string Provider, string Error, TimeSpan? RetryAfter = null, int? HttpStatusCode = null, string? ResponseExcerpt = null)
        : DeliveryResult(Provider, HttpStatusCode, ResponseExcerpt)
    {
        public override DeliveryOutcome Outcome => DeliveryOutcome.TransientFailure;
    }

    /// <summary>A refusal retrying cannot fix (a 4xx other than 429, e.g. 422 validation): dead-lettered at once.</summary>
    public sealed record PermanentFailure(string Provider, string Error, int? HttpStatusCode = null, string? ResponseExcerpt = null)
        : DeliveryResult(Provider, HttpStatusCode, ResponseExcerpt)
    {
        public override DeliveryOutcome Outcome => DeliveryOutcome.PermanentFailure;
    }

    /// <summary>The email quota is spent until <see cref="RetryAt"/>: the job is <c>deferred</c> until then, never dead-lettered.</summary>
    public sealed record QuotaExceeded(string Provider, DateTimeOffset RetryAt, string Reason, int? HttpStatusCode = null, string? ResponseExcerpt = null)
        : DeliveryResult(Provider, HttpStatusCode, ResponseExcerpt)
    {
        public override DeliveryOutcome Outcome => DeliveryOutcome.QuotaExceeded;
    }

    /// <summary>Not attempted on purpose (email disabled, muted, no address); the job is cancelled with the reason.</summary>
    public sealed record Skipped(string Provider, string Reason)
        : DeliveryResult(Provider, null, null)
    {
        public override DeliveryOutcome Outcome => DeliveryOutcome.Skipped;
    }
}
