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

    /// <summary>
    /// The pub/sub channel of one user's real-time events (<see cref="Messaging.InAppMessage"/> as JSON): the worker
    /// publishes an in-app delivery here, and every API replica relays it to that user's open Server-Sent-Events streams.
    /// </summary>
    public static string UserEvents(string userId) => $"{Prefix}events:user:{userId}";

    /// <summary>Emails counted against the provider's daily quota on one UTC day (expires after the day).</summary>
    public static string EmailQuotaDay(DateOnly utcDay) => $"{Prefix}quota:email:day:{utcDay:yyyy-MM-dd}";

    /// <summary>Emails counted against the provider's monthly quota in the UTC month of <paramref name="utcDay"/>.</summary>
    public static string EmailQuotaMonth(DateOnly utcDay) => $"{Prefix}quota:email:month:{utcDay:yyyy-MM}";

    /// <summary>
    /// Set while the quota is exhausted; its value is the instant (ISO 8601, UTC) the window resets, and it expires then.
    /// Workers stop calling the provider while it exists.
    /// </summary>
    public const string EmailQuotaLock = Prefix + "quota:email:lock";

    /// <summary>
    /// Set (NX) by the worker whose email first brings the UTC day's count to <paramref name="percent"/>% of the daily
    /// limit, so that each quota alert (80, 90, 100) is posted once a day however many workers run. Expires after the day.
    /// </summary>
    public static string EmailQuotaAlert(DateOnly utcDay, int percent) => $"{Prefix}quota:email:alert:{utcDay:yyyy-MM-dd}:{percent}";

    /// <summary>
    /// One user's recent emails (a sorted set: member = job id, score = Unix milliseconds sent), for the per-user email
    /// rate limit shared by every worker. Expires one window after the last email.
    /// </summary>
    public static string EmailUserRate(string userId) => $"{Prefix}ratelimit:email:user:{userId}";
    /// Delivery attempts started on one channel in one second (numbered from the Unix epoch), counted by every worker
    /// replica against the channel's global send rate limit. Expires shortly after its second.
    /// </summary>
    public static string SendRate(DeliveryChannel channel, long epochSecond) =>
        $"{Prefix}sendrate:{SnakeCaseEnum<DeliveryChannel>.ToName(channel)}:{epochSecond}";

    /// <summary>
    /// The state of one provider's circuit breaker (e.g. <c>notifications:circuit:resend</c>) as a worker last reported it:
    /// a <see cref="Resilience.ProviderCircuitState"/> as JSON, for the admin metrics. Workers write it on every change and
    /// refresh it while the circuit is not closed; it expires when nobody has refreshed it for a while.
    /// </summary>
    public static string ProviderCircuit(string provider) => $"{Prefix}circuit:{provider}";

    /// <summary>The pattern (for SCAN) matching every <see cref="ProviderCircuit"/> key.</summary>
    public const string ProviderCircuitPattern = Prefix + "circuit:*";

    /// <summary>
    /// Set when an alert of <paramref name="kind"/> about cron job <paramref name="jobName"/> is posted, expiring after the
    /// scheduler's repeat cooldown: while it exists, alerts of that kind about that job are not posted again.
    /// </summary>
    public static string CronAlertCooldown(string jobName, string kind) => $"{Prefix}alert:cron:{jobName}:{kind}";

    /// <summary>
    /// Present while the worker process reading its delivery streams as <paramref name="consumerName"/> runs: each of
    /// its consumers refreshes it on every maintenance pass, and it expires soon after the process ends. A stream
    /// consumer without it belongs to an ended worker.
    /// </summary>
    public static string WorkerAlive(string consumerName) => $"{Prefix}worker:{consumerName}";
}
