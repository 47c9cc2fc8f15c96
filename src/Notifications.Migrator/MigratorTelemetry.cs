using System.Diagnostics;

namespace Notifications.Migrator;

internal static class MigratorTelemetry
{
    public const string ActivitySourceName = "Notifications.Migrator";

    public static readonly ActivitySource ActivitySource = new(ActivitySourceName);
}
