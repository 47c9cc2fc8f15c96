using Notifications.Domain.Resilience;

namespace Notifications.Api.Apis.Admin;

/// <summary>
/// <c>GET /api/admin/metrics</c>: the platform at a glance. Redis-backed parts (<see cref="Streams"/>,
/// <see cref="ProviderCircuits"/>, the quota counters) are null while Redis is unreachable; <see cref="RedisAvailable"/>
/// says so.
/// </summary>
/// <param name="ProviderCircuits">
/// The providers whose circuit breaker a worker reported recently (open or half-open ones are refreshed while they last;
/// a closed one is reported when it closes, then expires).
/// </param>
public sealed record AdminMetrics(
    DateTimeOffset GeneratedAt,
    bool RedisAvailable,
    IReadOnlyList<StreamMetrics>? Streams,
    IReadOnlyList<ProviderCircuitState>? ProviderCircuits,
    OutboxMetrics Outbox,
    IReadOnlyDictionary<string, int> JobsByStatus,
    DeadLetterMetrics DeadLetters,
    EmailMetrics Email);

/// <summary>A channel's delivery stream: entries kept, entries delivered to a worker but not acknowledged, entries not yet read.</summary>
public sealed record StreamMetrics(string Channel, string Stream, long Length, long? Pending, long? Lag, int Consumers);

/// <summary>Outbox rows waiting for the relay: all of them, those already due, and how long the oldest due one has waited.</summary>
public sealed record OutboxMetrics(int Undispatched, int Due, double? OldestDueAgeSeconds);

/// <summary>Dead letters waiting for an operator, and all dead letters ever recorded (requeued ones included).</summary>
public sealed record DeadLetterMetrics(int Waiting, int Total);

/// <summary>Today is the current UTC day, the quota's window.</summary>
public sealed record EmailMetrics(int SentToday, int DeferredToday, int DeferredNow, QuotaMetrics? Quota);

/// <param name="Enabled">False when the quota is switched off (<c>Email:Quota:Enabled</c>): emails are counted, never held back.</param>
/// <param name="LockedUntil">While the quota is exhausted, when its window resets; otherwise null.</param>
public sealed record QuotaMetrics(bool Enabled, long DailyUsed, int DailyLimit, long MonthlyUsed, int MonthlyLimit, DateTimeOffset? LockedUntil);
