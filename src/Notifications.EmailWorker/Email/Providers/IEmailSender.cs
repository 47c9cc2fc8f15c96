using Notifications.EmailWorker.Delivery;

namespace Notifications.EmailWorker.Email.Providers;

/// <summary>
/// One email provider. Sends once and reports what happened as a <see cref="DeliveryResult"/>: <c>Sent</c> with the
/// provider's message id, a transient or permanent failure, or <c>QuotaExceeded</c> when the provider's own quota is
/// spent (the caller then locks the quota until <c>RetryAt</c>). Never throws for a refusal or a network failure;
/// only cancellation by the caller is thrown.
/// </summary>
public interface IEmailSender
{
    /// <summary>The provider's name in delivery logs and metrics: <c>dev-mailbox</c>, <c>resend</c> or <c>smtp</c>.</summary>
    string Name { get; }

    Task<DeliveryResult> SendAsync(EmailMessage message, CancellationToken cancellationToken);
}
