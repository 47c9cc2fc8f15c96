namespace Notifications.Domain.Persistence;

public sealed class SchemaVersionGuardOptions
{
    /// <summary>Connection string name under <c>ConnectionStrings</c>.</summary>
    public string ConnectionName { get; set; } = ResourceNames.Database;

    /// <summary>How long to wait for a database that is not ready yet before failing start-up.</summary>
    public TimeSpan ReadinessTimeout { get; set; } = TimeSpan.FromSeconds(30);

    public TimeSpan RetryDelay { get; set; } = TimeSpan.FromSeconds(1);
}
