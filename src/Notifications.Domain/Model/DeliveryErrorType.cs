namespace Notifications.Domain.Model;

/// <summary>Why a job was dead-lettered.</summary>
public enum DeliveryErrorType
{
    /// <summary>Timeouts, connection errors, 429, 5xx — until the retries ran out.</summary>
    Transient,

    /// <summary>A 4xx other than 429: retrying cannot help.</summary>
    Permanent,

    Quota,
}
