namespace Notifications.Domain.Model;

/// <summary>The quota counter for one UTC day, copied from Redis so it survives Redis losing it.</summary>
public sealed class EmailUsageSnapshot
{
    public required DateOnly Day { get; init; }
    public required int SentCount { get; set; }
    public required DateTimeOffset SnapshotAt { get; set; }
}
