namespace Notifications.Domain.Model;

public enum DeliveryJobStatus
{
    /// <summary>Written, with no outbox row yet (e.g. waiting for a scheduled retry).</summary>
    Pending,

    /// <summary>Handed to the outbox / stream; a worker will pick it up.</summary>
    Queued,

    Processing,
    Sent,

    /// <summary>Terminal failure; the job has a dead letter.</summary>
    Failed,

    Cancelled,

    /// <summary>Held back until <c>ScheduledFor</c> (quota window reset or retry back-off).</summary>
    Deferred,

    /// <summary>An email waiting for the user's next digest; it has no outbox row.</summary>
    DigestPending,

    /// <summary>Folded into the digest job named by <c>DigestJobId</c>; that job's status tells whether it went out.</summary>
    Digested,
}
