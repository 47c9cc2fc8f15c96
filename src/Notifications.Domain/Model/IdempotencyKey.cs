using System.Text.Json;

namespace Notifications.Domain.Model;

/// <summary>
/// A producer's <c>Idempotency-Key</c>. While <see cref="CompletedAt"/> is null the first request is in flight;
/// once set, the stored response is replayed for repeats with the same <see cref="RequestHash"/>.
/// </summary>
public sealed class IdempotencyKey
{
    /// <summary>Whose key it is (the producer's identity), so producers cannot collide.</summary>
    public required string Scope { get; init; }

    public required string Key { get; init; }

    /// <summary>Hash of the request body (and route) the key was first used with.</summary>
    public required string RequestHash { get; init; }

    public int? ResponseStatusCode { get; set; }
    public JsonDocument? ResponseBody { get; set; }
    public required DateTimeOffset CreatedAt { get; init; }
    public DateTimeOffset? CompletedAt { get; set; }
    public required DateTimeOffset ExpiresAt { get; init; }
}
