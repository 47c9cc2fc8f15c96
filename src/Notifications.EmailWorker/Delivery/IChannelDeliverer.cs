using Notifications.Domain.Model;

namespace Notifications.EmailWorker.Delivery;

/// <summary>
/// Delivers one job over one channel, once. The consumer owns everything around the attempt (claiming the job,
/// retries, dead-lettering, delivery logs, acknowledging the stream entry); a deliverer only attempts and reports what
/// happened. It must not throw for a provider's refusal or a network failure: those are <see cref="DeliveryResult"/>s.
/// </summary>
public interface IChannelDeliverer
{
    DeliveryChannel Channel { get; }

    Task<DeliveryResult> DeliverAsync(DeliveryAttempt attempt, CancellationToken cancellationToken);
}
