using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Notifications.Api;

/// <summary>The API's own activity source and meter (exported by the service defaults, which take <c>Notifications.*</c>).</summary>
internal static class ApiTelemetry
{
    public const string Name = "Notifications.Api";

    public static readonly ActivitySource ActivitySource = new(Name);

    public static readonly Meter Meter = new(Name);
}
