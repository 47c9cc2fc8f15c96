using Notifications.Domain.Model;

namespace Notifications.EmailWorker.Delivery;

/// <summary>One attempt at a job the consumer has claimed (status <c>processing</c>).</summary>
/// <param name="Job">The job row as claimed (detached; the consumer saves the outcome).</param>
/// <param name="Number">1-based attempt number, as logged in <c>delivery_logs.attempt</c>.</param>
public sealed record DeliveryAttempt(DeliveryJob Job, int Number)
{
    /// <summary>Idempotency key for the provider: the job id, so a redelivered entry cannot send twice.</summary>
    public string IdempotencyKey => Job.Id.ToString("D");

    /// <summary>
    /// The job's notification, loaded by the consumer in the same statement that claimed the job (one query for a whole
    /// batch); null for a digest job, which has none.
    /// </summary>
    public Notification? Notification { get; init; }

    /// <summary>The job's user (address, email switches), loaded with the claim like <see cref="Notification"/>; the consumer always sets it.</summary>
    public User? Recipient { get; init; }

    /// <summary>
    /// Waits for the channel's global send rate limit; null when the channel has none. Set by the consumer and awaited
    /// through <see cref="WaitForSendPermitAsync"/>.
    /// </summary>
    public Func<CancellationToken, ValueTask>? SendPermit { get; init; }

    /// <summary>
    /// Waits until the channel's send rate limit lets this attempt call its provider. A deliverer awaits it right before
    /// the provider call, so attempts settled without one (skipped, deferred by the quota) never spend a permit and never
    /// wait behind the limit.
    /// </summary>
    public ValueTask WaitForSendPermitAsync(CancellationToken cancellationToken) =>
        SendPermit?.Invoke(cancellationToken) ?? ValueTask.CompletedTask;
}
