namespace Notifications.Domain.Model;

/// <summary>One delivery attempt of a job.</summary>
public sealed class DeliveryLog
{
    public Guid Id { get; init; } = Guid.CreateVersion7();
    public required Guid JobId { get; init; }

    /// <summary>1-based attempt number.</summary>
    public required int Attempt { get; init; }

    public required DeliveryChannel Channel { get; init; }

    /// <summary>e.g. <c>resend</c>, <c>smtp</c>, <c>dev-mailbox</c>, <c>redis</c>, <c>ably</c>.</summary>
    public required string Provider { get; init; }

    public required DeliveryOutcome Outcome { get; init; }
    public int? HttpStatusCode { get; init; }

    /// <summary>The start of the provider's response, for operators.</summary>
    public string? ResponseExcerpt { get; init; }

    public required long DurationMs { get; init; }
    public string? Error { get; init; }
    public required DateTimeOffset CreatedAt { get; init; }
}
