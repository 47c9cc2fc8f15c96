using System.Text.Json;

namespace Notifications.Domain.Model;

/// <summary>One run of a scheduled job.</summary>
public sealed class CronJobExecution
{
    public Guid Id { get; init; } = Guid.CreateVersion7();
    public required string JobName { get; init; }
    public required DateTimeOffset StartedAt { get; init; }
    public DateTimeOffset? CompletedAt { get; set; }
    public long? DurationMs { get; set; }
    public CronJobStatus Status { get; set; } = CronJobStatus.Running;

    /// <summary>Counts the run reports (found, completed, failed, skipped, errors).</summary>
    public JsonDocument? Results { get; set; }

    public string? ErrorMessage { get; set; }
}
