namespace Notifications.Domain.Model;

public enum DeliveryMode
{
    Immediate,

    /// <summary>Batch into the user's digest (email only).</summary>
    Digest,
}
