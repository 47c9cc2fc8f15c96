using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Notifications.EmailWorker;

/// <summary>The worker's own activity source and meter (exported by the service defaults, which take <c>Notifications.*</c>).</summary>
internal static class WorkerTelemetry
{
    public const string Name = "Notifications.EmailWorker";

    public static readonly ActivitySource ActivitySource = new(Name);

    public static readonly Meter Meter = new(Name);
}
