namespace Notifications.Domain.Model;

public enum DeliveryJobKind
{
    /// <summary>Delivers one notification over one channel.</summary>
    Notification,

    /// <summary>An email that delivers the jobs folded into it (those whose <c>DigestJobId</c> is this job's id).</summary>
    Digest,
}
