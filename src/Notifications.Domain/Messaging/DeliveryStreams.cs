using Notifications.Domain.Model;
using Notifications.Domain.Redis;

namespace Notifications.Domain.Messaging;

/// <summary>Where delivery work travels: one Redis stream per channel, read by one consumer group of workers.</summary>
public static class DeliveryStreams
{
    /// <summary>The consumer group the delivery workers read each channel's stream with.</summary>
    public const string ConsumerGroup = "delivery-workers";

    /// <summary>The stream name of a channel, e.g. <c>notifications:stream:email</c>.</summary>
    public static string For(DeliveryChannel channel) => RedisKeys.DeliveryStream(channel);
}
