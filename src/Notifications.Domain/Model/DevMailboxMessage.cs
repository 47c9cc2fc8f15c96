using System.Text.Json;

namespace Notifications.Domain.Model;

/// <summary>
/// An email the worker delivered to the dev mailbox instead of a real provider (real email off, the default), so it
/// can be read at the API's Development-only <c>/api/dev/mailbox</c>.
/// </summary>
public sealed class DevMailboxMessage
{
    public Guid Id { get; init; } = Guid.CreateVersion7();

    /// <summary>The delivery job's id: one message per job, however often it is delivered.</summary>
    public required string IdempotencyKey { get; init; }

    public required string FromAddress { get; init; }
    public required string ToAddress { get; init; }
    public required string Subject { get; init; }
    public required string Html { get; init; }
    public required string Text { get; init; }

    /// <summary>The extra headers the email carried (e.g. <c>List-Unsubscribe</c>), as a JSON object of name → value.</summary>
    public required JsonDocument Headers { get; init; }

    public required DateTimeOffset CreatedAt { get; init; }
}
