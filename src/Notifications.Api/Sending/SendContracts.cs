using System.Text.Json;
using System.Text.Json.Serialization;

namespace Notifications.Api.Sending;

/// <summary>
/// <c>POST /api/notifications</c>: one event for one user. Every member is nullable so that a missing one is reported
/// as a validation error naming it rather than a deserialization failure.
/// </summary>
/// <param name="Priority"><c>low</c>, <c>normal</c> (default), <c>high</c> or <c>critical</c>.</param>
/// <param name="Data">A JSON object the producer wants back with the notification (default <c>{}</c>).</param>
/// <param name="Channels">Restricts delivery to these channels (<c>in_app</c>, <c>email</c>); default: every channel.</param>
public sealed record SendNotificationRequest(
    string? UserId,
    string? Type,
    string? Category,
    string? Priority,
    string? Title,
    string? Body,
    JsonElement? Data,
    string[]? Channels);

/// <summary>
/// <c>POST /api/notifications/batch</c>: either one event for many users (<see cref="UserIds"/> with the content
/// fields) or many separate events (<see cref="Notifications"/>), at most 1,000 either way.
/// </summary>
public sealed record SendBatchRequest(
    string[]? UserIds,
    string? Type,
    string? Category,
    string? Priority,
    string? Title,
    string? Body,
    JsonElement? Data,
    string[]? Channels,
    SendNotificationRequest[]? Notifications);

/// <summary>A delivery job created for an accepted notification: <c>queued</c>, or <c>digest_pending</c> for a digested email.</summary>
public sealed record AcceptedJob(Guid Id, string Channel, string Status);

/// <summary>A channel the notification will not go out on, and why (e.g. <c>email_disabled</c>, <c>muted</c>).</summary>
public sealed record SkippedChannel(string Channel, string Reason);

/// <summary>The <c>202 Accepted</c> answer to a single send.</summary>
public sealed record SendNotificationResponse(
    Guid NotificationId,
    string UserId,
    string Priority,
    IReadOnlyList<AcceptedJob> Jobs,
    IReadOnlyList<SkippedChannel> Skipped);

/// <summary>One item of a batch: accepted with its notification, or rejected with the reason (e.g. an unknown user).</summary>
public sealed record BatchItemResult(
    int Index,
    string UserId,
    string Status,
    Guid? NotificationId,
    IReadOnlyList<AcceptedJob>? Jobs,
    IReadOnlyList<SkippedChannel>? Skipped,
    string? Error);

/// <summary>The <c>202 Accepted</c> answer to a batch: counts, and a result per item in request order.</summary>
public sealed record SendBatchResponse(int Accepted, int Rejected, IReadOnlyList<BatchItemResult> Results);

/// <summary>Source-generated (de)serialization for the send path, which is the API's hottest.</summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(SendNotificationRequest))]
[JsonSerializable(typeof(SendBatchRequest))]
[JsonSerializable(typeof(SendNotificationResponse))]
[JsonSerializable(typeof(SendBatchResponse))]
internal sealed partial class SendJsonContext : JsonSerializerContext;
