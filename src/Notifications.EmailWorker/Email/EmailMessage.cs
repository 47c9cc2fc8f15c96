namespace Notifications.EmailWorker.Email;

/// <summary>One rendered email, ready for any provider.</summary>
/// <param name="IdempotencyKey">The delivery job's id: the provider must not send twice for it.</param>
/// <param name="From">The sender as configured (<c>Name &lt;address&gt;</c> or an address).</param>
/// <param name="To">The recipient's address.</param>
/// <param name="ToName">The recipient's display name, if known.</param>
/// <param name="Headers">Extra headers (<c>List-Unsubscribe</c>, <c>List-Unsubscribe-Post</c>).</param>
/// <param name="Type">The notification type (<c>digest</c> for digests), for the provider's tags.</param>
public sealed record EmailMessage(
    string IdempotencyKey,
    string From,
    string To,
    string? ToName,
    string Subject,
    string Html,
    string Text,
    IReadOnlyList<KeyValuePair<string, string>> Headers,
    string Type);
