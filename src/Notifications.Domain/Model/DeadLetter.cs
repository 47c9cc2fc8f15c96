using System.Text.Json;

namespace Notifications.Domain.Model;

/// <summary>
/// A job that could not be delivered. One row per job: dead-lettering a requeued job again updates this row
/// (new error, longer history, <see cref="RequeuedAt"/> cleared).
/// </summary>
public sealed class DeadLetter
{
    public Guid Id { get; init; } = Guid.CreateVersion7();
    public required Guid JobId { get; init; }
    public required DeliveryChannel Channel { get; init; }
    public required DeliveryErrorType ErrorType { get; set; }
    public int? HttpStatusCode { get; set; }
    public string? ProviderResponse { get; set; }
    public string? ErrorMessage { get; set; }

    /// <summary>JSON array of the attempts (when, outcome, status code, error).</summary>
    public required JsonDocument AttemptHistory { get; set; }

    public required DateTimeOffset CreatedAt { get; init; }
    public required DateTimeOffset UpdatedAt { get; set; }

    /// <summary>When an operator last requeued it; null while it waits in the queue.</summary>
    public DateTimeOffset? RequeuedAt { get; set; }

    public int RequeueCount { get; set; }
}
