using Notifications.Domain.Model;
using Notifications.Domain.Persistence;

namespace Notifications.Domain.Redis;

/// <summary>
/// Every Redis key the services use, in one place, so that a key written by one service is read under the
/// same name by the others and keys of different features never collide.
/// </summary>
public static class RedisKeys
{
    /// <summary>Common prefix, so the platform's keys can share a Redis with other applications.</summary>
    public const string Prefix = "notifications:";

    /// <summary>
    /// The API's request counter of one rate-limit partition (e.g. <c>user:42</c> or <c>ip:10.0.0.7</c>) in one
    /// fixed window, numbered from the Unix epoch in window lengths. Expires by itself once the window is over.
    /// </summary>
    public static string RateLimit(string partition, long window) => $"{Prefix}ratelimit:{partition}:{window}";

    /// <summary>
    /// The stream of delivery work for one channel (e.g. <c>notifications:stream:in_app</c>), appended to by the API's
    /// outbox relay and read by the workers; entries are <see cref="Messaging.DeliveryMessage"/>s.
    /// </summary>
    public static string DeliveryStream(DeliveryChannel channel) => $"{Prefix}stream:{SnakeCaseEnum<DeliveryChannel>.ToName(channel)}";
}
