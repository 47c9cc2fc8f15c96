using Notifications.Domain.Model;

namespace Notifications.Api.Sending;

/// <summary>A validated notification for one recipient, before its channels are chosen.</summary>
/// <param name="DataJson">The producer's JSON object as text, stored as <c>jsonb</c>.</param>
/// <param name="Channels">The channels the producer asked for (all channels when it did not say), without duplicates.</param>
internal sealed record NotificationDraft(
    string UserId,
    string Type,
    string Category,
    NotificationPriority Priority,
    string Title,
    string Body,
    string DataJson,
    IReadOnlyList<DeliveryChannel> Channels);
