namespace Notifications.Domain.Model;

public enum DeliveryJobStatus
{
    /// <summary>
    /// Waiting for a scheduled retry: its outbox row falls due at <c>ScheduledFor</c> (back-off, a provider's
    /// Retry-After, or a provider whose circuit is open), and the relay hands it to the workers then.
    /// </summary>
    Pending,

    /// <summary>Handed to the outbox / stream; a worker will pick it up.</summary>
    Queued,

    Processing,
    Sent,

    /// <summary>Terminal failure; the job has a dead letter.</summary>
    Failed,

    Cancelled,

    /// <summary>
    /// Held back, with no outbox row, until <c>ScheduledFor</c> (the email quota window's reset, a user's email rate
    /// window): the scheduler's deferred-release job re-enqueues it once that time has come.
    /// </summary>
    Deferred,

    /// <summary>An email waiting for the user's next digest; it has no outbox row.</summary>
    DigestPending,

    /// <summary>Folded into the digest job named by <c>DigestJobId</c>; that job's status tells whether it went out.</summary>
    Digested,
}
