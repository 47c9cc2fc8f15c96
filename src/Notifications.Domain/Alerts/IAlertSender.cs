namespace Notifications.Domain.Alerts;

/// <summary>Posts alerts to the operators' channels.</summary>
public interface IAlertSender
{
    /// <summary>
    /// Posts <paramref name="alert"/> to every configured webhook. Never throws for a webhook that fails or cannot be
    /// reached (that is logged): an alert must never stop the work it reports on. Only cancellation is thrown.
    /// </summary>
    /// <returns>How many webhooks accepted the alert (0 when none is configured).</returns>
    Task<int> SendAsync(Alert alert, CancellationToken cancellationToken);
}
