using System.Diagnostics;
using Notifications.Domain.Model;

namespace Notifications.Scheduler.Jobs;

/// <summary>
/// What the scheduler's set-based SQL writes into <c>outbox_messages</c>: the payload <see cref="OutboxMessage.For"/>
/// builds for a job, and the trace context of the current cron run, so a delivery traces back to the run that queued it.
/// </summary>
internal static class OutboxRows
{
    public static string Payload(DeliveryJob job, DateTimeOffset now) =>
        OutboxMessage.For(job, TraceParent, TraceState, now).Payload.RootElement.GetRawText();

    public static string? TraceParent => Activity.Current is { IdFormat: ActivityIdFormat.W3C } activity ? activity.Id : null;

    public static string? TraceState => Activity.Current is { IdFormat: ActivityIdFormat.W3C } activity ? activity.TraceStateString : null;
}
