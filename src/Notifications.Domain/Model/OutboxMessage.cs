using System.Text.Json;

namespace Notifications.Domain.Model;

/// <summary>
/// Work to append to a channel's stream, written in the same transaction as its job. Inserting rows raises
/// <c>NOTIFY</c> on <see cref="Persistence.OutboxSignal.ChannelName"/> when the transaction commits.
/// </summary>
public sealed class OutboxMessage
{
    /// <summary>Identity: ascending in insertion order, so the relay dispatches oldest first.</summary>
    public long Id { get; init; }

    public required Guid JobId { get; init; }
    public required DeliveryChannel Channel { get; init; }
    public required JsonDocument Payload { get; init; }

    /// <summary>W3C trace context of the request that created the work.</summary>
    public string? TraceParent { get; init; }

    public string? TraceState { get; init; }
    public required DateTimeOffset CreatedAt { get; init; }
    public DateTimeOffset? DispatchedAt { get; set; }
    public int Attempts { get; set; }
    public string? LastError { get; set; }
}
