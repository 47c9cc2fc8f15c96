using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Notifications.Domain.Model;
using Notifications.Domain.Persistence;

namespace Notifications.EmailWorker.Consuming;

/// <summary>The worker's instruments on <see cref="WorkerTelemetry.Meter"/>.</summary>
internal static class WorkerMetrics
{
    private static readonly Counter<long> Sent = WorkerTelemetry.Meter.CreateCounter<long>(
        "notifications.worker.sent", unit: "{job}", description: "Jobs delivered.");

    private static readonly Counter<long> Failed = WorkerTelemetry.Meter.CreateCounter<long>(
        "notifications.worker.failed", unit: "{attempt}", description: "Attempts that failed, transiently or permanently (error.type).");

    private static readonly Counter<long> Retried = WorkerTelemetry.Meter.CreateCounter<long>(
        "notifications.worker.retried", unit: "{job}", description: "Jobs scheduled for another attempt after a transient failure.");

    private static readonly Counter<long> DeadLettered = WorkerTelemetry.Meter.CreateCounter<long>(
        "notifications.worker.dead_lettered", unit: "{job}", description: "Jobs moved to the dead-letter queue.");

    private static readonly Counter<long> Deferred = WorkerTelemetry.Meter.CreateCounter<long>(
        "notifications.worker.deferred", unit: "{job}", description: "Jobs deferred until the email quota window resets.");

    private static readonly Counter<long> Skipped = WorkerTelemetry.Meter.CreateCounter<long>(
        "notifications.worker.skipped", unit: "{job}", description: "Jobs cancelled without an attempt (email disabled, muted, no address).");

    private static readonly Counter<long> Held = WorkerTelemetry.Meter.CreateCounter<long>(
        "notifications.worker.held", unit: "{job}", description: "Jobs put back to pending, unattempted, because a provider's circuit is open.");

    private static readonly Histogram<double> SendDuration = WorkerTelemetry.Meter.CreateHistogram<double>(
        "notifications.worker.send.duration", unit: "s", description: "How long delivery attempts took.");

    /// <summary>The last lag and pending count each consumer saw for its stream (one worker process may run several hosts in tests).</summary>
    private static readonly ConcurrentDictionary<string, (long? Lag, long Pending)> StreamStates = new(StringComparer.Ordinal);

    static WorkerMetrics()
    {
        WorkerTelemetry.Meter.CreateObservableGauge(
            "notifications.worker.stream.lag",
            () => StreamStates
                .Where(state => state.Value.Lag is not null)
                .Select(state => new Measurement<long>(state.Value.Lag!.Value, new KeyValuePair<string, object?>("messaging.destination.name", state.Key))),
            unit: "{entry}",
            description: "Entries of a delivery stream not yet read by the worker group.");
        WorkerTelemetry.Meter.CreateObservableGauge(
            "notifications.worker.stream.pending",
            () => StreamStates.Select(state => new Measurement<long>(state.Value.Pending, new KeyValuePair<string, object?>("messaging.destination.name", state.Key))),
            unit: "{entry}",
            description: "Entries of a delivery stream read but not yet acknowledged.");
    }

    public static void RecordStreamState(string stream, long? lag, long pending) => StreamStates[stream] = (lag, pending);

    public static void RecordAttempt(DeliveryChannel channel, string provider, DeliveryOutcome outcome, TimeSpan duration)
    {
        var tags = Tags(channel, provider);
        SendDuration.Record(duration.TotalSeconds, tags);
        if (outcome is DeliveryOutcome.TransientFailure or DeliveryOutcome.PermanentFailure)
        {
            Failed.Add(1, [.. tags, new("error.type", outcome == DeliveryOutcome.TransientFailure ? "transient" : "permanent")]);
        }
    }

    public static void RecordOutcome(JobOutcome outcome, string? provider)
    {
        var counter = outcome.Kind switch
        {
            OutcomeKind.Sent => Sent,
            OutcomeKind.Retried => Retried,
            OutcomeKind.DeadLettered => DeadLettered,
            OutcomeKind.Deferred => Deferred,
            OutcomeKind.Skipped => Skipped,
            _ => Held,
        };
        counter.Add(1, Tags(outcome.Job.Channel, provider));
    }

    private static KeyValuePair<string, object?>[] Tags(DeliveryChannel channel, string? provider) =>
    [
        new("notifications.channel", SnakeCaseEnum<DeliveryChannel>.ToName(channel)),
        new("notifications.provider", provider),
    ];
}
