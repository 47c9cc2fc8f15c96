using System.Buffers;
using System.Text;
using System.Text.Json;
using Notifications.Domain.Messaging;

namespace Notifications.Domain.Model;

/// <summary>
/// Work to append to a channel's stream, written in the same transaction as its job. Whoever writes rows that are due
/// now also raises <see cref="Persistence.OutboxSignal"/>, so a relay goes for them at once rather than at its next poll.
/// Create rows with <see cref="For"/>: the relay appends <see cref="ToDeliveryMessage"/> to the channel's stream as is.
/// </summary>
public sealed class OutboxMessage
{
    /// <summary>Identity: ascending in insertion order, so the relay dispatches oldest first.</summary>
    public long Id { get; init; }

    public required Guid JobId { get; init; }
    public required DeliveryChannel Channel { get; init; }

    /// <summary>
    /// The <see cref="DeliveryMessage"/> fields other than the trace context (which has its own columns), as a JSON
    /// object of strings named like the stream fields: <c>job_id</c>, <c>notification_id</c> (absent for a digest),
    /// <c>user_id</c>, <c>channel</c>, <c>priority</c>.
    /// </summary>
    public required JsonDocument Payload { get; init; }

    /// <summary>W3C trace context of the request that created the work.</summary>
    public string? TraceParent { get; init; }

    public string? TraceState { get; init; }
    public required DateTimeOffset CreatedAt { get; init; }

    /// <summary>
    /// Not appended before this instant: the creation time for work that goes now, the due time of a scheduled retry.
    /// </summary>
    public required DateTimeOffset AvailableAt { get; init; }

    public DateTimeOffset? DispatchedAt { get; set; }
    public int Attempts { get; set; }
    public string? LastError { get; set; }

    /// <summary>
    /// The outbox row that hands <paramref name="job"/> to its channel's workers, at once or, when
    /// <paramref name="availableAt"/> is given, once that instant has come.
    /// </summary>
    public static OutboxMessage For(
        DeliveryJob job, string? traceParent, string? traceState, DateTimeOffset now, DateTimeOffset? availableAt = null)
    {
        return new OutboxMessage
        {
            JobId = job.Id,
            Channel = job.Channel,
            Payload = JsonDocument.Parse(PayloadFor(DeliveryMessage.ForJob(job, traceParent, traceState))),
            TraceParent = traceParent,
            TraceState = traceState,
            CreatedAt = now,
            AvailableAt = availableAt ?? now,
        };
    }

    /// <summary>
    /// The <see cref="Payload"/> of the row for <paramref name="message"/> as JSON text: its stream fields but the trace
    /// context. For writers that insert outbox rows with their own SQL.
    /// </summary>
    public static string PayloadFor(DeliveryMessage message)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            foreach (var (name, value) in message.ToStreamFields())
            {
                if (name is not (DeliveryMessage.Fields.TraceParent or DeliveryMessage.Fields.TraceState))
                {
                    writer.WriteString(name, value);
                }
            }
            writer.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    /// <summary>The stream entry this row stands for: its payload's fields and its trace context.</summary>
    /// <exception cref="FormatException">The payload does not hold the fields <see cref="For"/> writes.</exception>
    public DeliveryMessage ToDeliveryMessage()
    {
        if (Payload.RootElement.ValueKind != JsonValueKind.Object)
        {
            throw new FormatException($"Outbox message {Id}'s payload is not a JSON object.");
        }
        var fields = Payload.RootElement.EnumerateObject()
            .Where(property => property.Value.ValueKind == JsonValueKind.String)
            .Select(property => KeyValuePair.Create(property.Name, property.Value.GetString()!))
            .ToList();
        if (TraceParent is not null)
        {
            fields.Add(KeyValuePair.Create(DeliveryMessage.Fields.TraceParent, TraceParent));
        }
        if (TraceState is not null)
        {
            fields.Add(KeyValuePair.Create(DeliveryMessage.Fields.TraceState, TraceState));
        }
        return DeliveryMessage.FromStreamFields(fields);
    }
}
