using System.Diagnostics.Metrics;

namespace Notifications.EmailWorker.Email;

/// <summary>The email channel's instruments, on the worker's meter (the consumer counts sent/failed/retried per channel).</summary>
internal static class EmailMetrics
{
    /// <summary>Quota slots in use: +1 per slot taken, −1 per slot given back; tag <c>bypass</c> for high/critical email.</summary>
    public static readonly UpDownCounter<long> QuotaUsed = WorkerTelemetry.Meter.CreateUpDownCounter<long>(
        "notifications.email.quota.used", "{email}", "Email quota slots taken by this worker, less those given back");

    /// <summary>Emails deferred by the quota or the per-user rate limit; tag <c>reason</c>.</summary>
    public static readonly Counter<long> QuotaDeferrals = WorkerTelemetry.Meter.CreateCounter<long>(
        "notifications.email.quota.deferrals", "{email}", "Emails deferred by the quota lock, a reached limit, the provider's quota or the user's rate limit");

    /// <summary>Provider calls by <c>provider</c> and <c>outcome</c> (sent, transient_failure, permanent_failure, quota_exceeded).</summary>
    public static readonly Counter<long> ProviderResults = WorkerTelemetry.Meter.CreateCounter<long>(
        "notifications.email.provider.results", "{email}", "Emails handed to a provider, by provider and outcome");

    public static readonly Histogram<double> ProviderDuration = WorkerTelemetry.Meter.CreateHistogram<double>(
        "notifications.email.provider.duration", "ms", "How long one provider call took");

    /// <summary>Emails not attempted on purpose; tag <c>reason</c> (disabled, muted, no_address, unsubscribed, gone, empty_digest).</summary>
    public static readonly Counter<long> Skipped = WorkerTelemetry.Meter.CreateCounter<long>(
        "notifications.email.skipped", "{email}", "Email jobs skipped: email off, muted, no address, unsubscribed");
}
