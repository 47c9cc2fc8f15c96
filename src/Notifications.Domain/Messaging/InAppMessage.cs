using System.Text.Json;
using System.Text.Json.Serialization;

namespace Notifications.Domain.Messaging;

/// <summary>
/// The real-time event of one in-app notification, as the worker publishes it on <see cref="Redis.RedisKeys.UserEvents"/>
/// (and to Ably on <see cref="AblyChannelName"/>) and as the API's Server-Sent-Events stream sends it, with the
/// notification id as the event id so a reconnecting browser resumes with <c>Last-Event-ID</c>. Enum values are the
/// stored snake_case names; <see cref="UnreadCount"/> is the user's unread count including this notification.
/// </summary>
public sealed record InAppMessage(
    Guid Id,
    string Type,
    string Category,
    string Priority,
    string Title,
    string Body,
    JsonElement Data,
    DateTimeOffset CreatedAt,
    int UnreadCount)
{
    /// <summary>The SSE event name and the Ably message name.</summary>
    public const string EventName = "notification";

    private static readonly JsonSerializerOptions SerializerOptions = new(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
    };

    /// <summary>The Ably channel a user's browser subscribes to, e.g. <c>notifications:42</c>.</summary>
    public static string AblyChannelName(string userId) => $"notifications:{userId}";

    public string ToJson() => JsonSerializer.Serialize(this, SerializerOptions);

    /// <exception cref="JsonException">The text is not an in-app message.</exception>
    public static InAppMessage FromJson(string json) =>
        JsonSerializer.Deserialize<InAppMessage>(json, SerializerOptions)
        ?? throw new JsonException("An in-app message cannot be null.");
}
