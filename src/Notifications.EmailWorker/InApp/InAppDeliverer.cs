using Notifications.Domain.Messaging;
using Notifications.Domain.Model;
using Notifications.Domain.Persistence;
using Notifications.Domain.Redis;
using Notifications.EmailWorker.Consuming;
using Notifications.EmailWorker.Delivery;
using StackExchange.Redis;

namespace Notifications.EmailWorker.InApp;

/// <summary>
/// The in-app channel: publishes the notification as an <see cref="InAppMessage"/> (with the user's unread count) on the
/// user's Redis pub/sub channel, which every API replica relays to that user's Server-Sent-Events streams, and, when Ably
/// is configured, to Ably as well. Provider <c>redis</c>, or <c>ably</c> once Ably is configured (its answer is the one
/// that can fail in interesting ways).
/// </summary>
/// <remarks>
/// A retry after Ably failed publishes on Redis again, so an open SSE stream can see a message twice; clients key
/// messages by notification id (the SSE event id), so the repeat replaces rather than adds.
/// </remarks>
internal sealed class InAppDeliverer(IDatabase redis, UnreadNotificationCounts unreadCounts, AblyPublisher ably) : IChannelDeliverer
{
    public const string RedisProvider = "redis";

    public DeliveryChannel Channel => DeliveryChannel.InApp;

    public async Task<DeliveryResult> DeliverAsync(DeliveryAttempt attempt, CancellationToken cancellationToken)
    {
        if (attempt.Notification is not { } notification)
        {
            return new DeliveryResult.PermanentFailure(RedisProvider, "The job has no notification to publish.");
        }
        if (notification.ArchivedAt is not null)
        {
            return new DeliveryResult.Skipped(RedisProvider, "The user deleted the notification from the inbox before it was pushed.");
        }

        var unread = await unreadCounts.GetAsync(notification.UserId, cancellationToken);
        var json = new InAppMessage(
            notification.Id,
            notification.Type,
            notification.Category,
            SnakeCaseEnum<NotificationPriority>.ToName(notification.Priority),
            notification.Title,
            notification.Body,
            notification.Data.RootElement,
            notification.CreatedAt,
            unread).ToJson();

        await attempt.WaitForSendPermitAsync(cancellationToken);
        try
        {
            await redis.PublishAsync(RedisKeys.UserEvents(notification.UserId), json)
                .WaitAsync(DeliveryStream.CommandTimeout, cancellationToken);
        }
        catch (Exception exception) when (exception is RedisException or TimeoutException)
        {
            return new DeliveryResult.TransientFailure(RedisProvider, $"Redis did not take the message: {exception.Message}");
        }

        return ably.IsConfigured
            ? await ably.PublishAsync(notification.UserId, json, cancellationToken)
            : new DeliveryResult.Sent(RedisProvider, ProviderMessageId: null);
    }
}
