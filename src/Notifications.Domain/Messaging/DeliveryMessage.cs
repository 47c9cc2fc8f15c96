using System.Globalization;
using Notifications.Domain.Model;
using Notifications.Domain.Persistence;
using StackExchange.Redis;

namespace Notifications.Domain.Messaging;

/// <summary>
/// One entry of a channel's delivery stream: which job to deliver, and the trace context of the request that created
/// it. Every value is text (GUIDs in "D" format, enums by their stored snake_case names); absent values are left out.
/// A worker must re-read the job row before acting: the relay delivers at least once, so an entry can repeat.
/// </summary>
public sealed record DeliveryMessage(
    Guid JobId,
    Guid? NotificationId,
    string UserId,
    DeliveryChannel Channel,
    NotificationPriority Priority,
    string? TraceParent,
    string? TraceState)
{
    /// <summary>The stream field names.</summary>
    public static class Fields
    {
        public const string JobId = "job_id";
        public const string NotificationId = "notification_id";
        public const string UserId = "user_id";
        public const string Channel = "channel";
        public const string Priority = "priority";
        public const string TraceParent = "traceparent";
        public const string TraceState = "tracestate";
    }

    /// <summary>The message for a job (its notification is null for a digest job).</summary>
    public static DeliveryMessage ForJob(DeliveryJob job, string? traceParent, string? traceState) =>
        new(job.Id, job.NotificationId, job.UserId, job.Channel, job.Priority, traceParent, traceState);

    /// <summary>Field/value pairs in a fixed order, without the absent (null or empty) values.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> ToStreamFields()
    {
        var fields = new List<KeyValuePair<string, string>>(7)
        {
            new(Fields.JobId, JobId.ToString("D")),
        };
        if (NotificationId is { } notificationId)
        {
            fields.Add(new(Fields.NotificationId, notificationId.ToString("D")));
        }
        fields.Add(new(Fields.UserId, UserId));
        fields.Add(new(Fields.Channel, SnakeCaseEnum<DeliveryChannel>.ToName(Channel)));
        fields.Add(new(Fields.Priority, SnakeCaseEnum<NotificationPriority>.ToName(Priority)));
        if (!string.IsNullOrEmpty(TraceParent))
        {
            fields.Add(new(Fields.TraceParent, TraceParent));
        }
        if (!string.IsNullOrEmpty(TraceState))
        {
            fields.Add(new(Fields.TraceState, TraceState));
        }
        return fields;
    }

    /// <summary>Reads a message from its field/value pairs; unknown fields are ignored.</summary>
    /// <exception cref="FormatException">A required field is missing, or a value is malformed; the field is named.</exception>
    public static DeliveryMessage FromStreamFields(IEnumerable<KeyValuePair<string, string>> fields)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (name, value) in fields)
        {
            values[name] = value;
        }

        return new DeliveryMessage(
            ParseGuid(Required(values, Fields.JobId), Fields.JobId),
            Optional(values, Fields.NotificationId) is { } notificationId ? ParseGuid(notificationId, Fields.NotificationId) : null,
            Required(values, Fields.UserId),
            ParseEnum<DeliveryChannel>(Required(values, Fields.Channel), Fields.Channel),
            ParseEnum<NotificationPriority>(Required(values, Fields.Priority), Fields.Priority),
            Optional(values, Fields.TraceParent),
            Optional(values, Fields.TraceState));
    }

    /// <summary>
    /// Reads a message from a stream entry's raw field list as Redis returns it (XRANGE, XREADGROUP):
    /// field, value, field, value, …
    /// </summary>
    /// <exception cref="FormatException">The list is odd-sized, a required field is missing, or a value is malformed.</exception>
    public static DeliveryMessage FromStreamFields(RedisValue[] fieldsAndValues)
    {
        if (fieldsAndValues.Length % 2 != 0)
        {
            throw new FormatException($"A stream entry's fields come in name/value pairs, but {fieldsAndValues.Length} values were given.");
        }
        var pairs = new List<KeyValuePair<string, string>>(fieldsAndValues.Length / 2);
        for (var index = 0; index < fieldsAndValues.Length; index += 2)
        {
            pairs.Add(new((string?)fieldsAndValues[index] ?? "", (string?)fieldsAndValues[index + 1] ?? ""));
        }
        return FromStreamFields(pairs);
    }

    private static string Required(Dictionary<string, string> values, string field) =>
        Optional(values, field) ?? throw new FormatException($"The delivery message has no '{field}' field.");

    private static string? Optional(Dictionary<string, string> values, string field) =>
        values.TryGetValue(field, out var value) && value.Length > 0 ? value : null;

    private static Guid ParseGuid(string value, string field) =>
        Guid.TryParseExact(value, "D", out var guid)
            ? guid
            : throw new FormatException($"The delivery message's '{field}' field is not a GUID: '{value}'.");

    private static TEnum ParseEnum<TEnum>(string value, string field) where TEnum : struct, Enum
    {
        if (SnakeCaseEnum<TEnum>.AllNames.Contains(value, StringComparer.Ordinal))
        {
            return SnakeCaseEnum<TEnum>.FromName(value);
        }
        throw new FormatException(string.Create(CultureInfo.InvariantCulture,
            $"The delivery message's '{field}' field is not one of {string.Join(", ", SnakeCaseEnum<TEnum>.AllNames)}: '{value}'."));
    }
}
