namespace Notifications.Domain.Model;

/// <summary>What one delivery attempt came to.</summary>
public enum DeliveryOutcome
{
    Sent,
    TransientFailure,
    PermanentFailure,
    QuotaExceeded,

    /// <summary>Not attempted on purpose (email disabled, user muted); the log's error says why.</summary>
    Skipped,
}
