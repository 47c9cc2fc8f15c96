using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Notifications.Scheduler;

/// <summary>The scheduler's own activity source and meter (exported by the service defaults, which take <c>Notifications.*</c>).</summary>
internal static class SchedulerTelemetry
{
    public const string Name = "Notifications.Scheduler";

    public static readonly ActivitySource ActivitySource = new(Name);

    public static readonly Meter Meter = new(Name);
}
