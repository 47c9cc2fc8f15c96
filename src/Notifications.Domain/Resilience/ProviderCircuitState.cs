using System.Text.Json;
using System.Text.Json.Serialization;

namespace Notifications.Domain.Resilience;

/// <summary>
/// A delivery provider's circuit breaker as a worker reports it under <see cref="Redis.RedisKeys.ProviderCircuit"/>.
/// <see cref="State"/> is <c>closed</c> (calls go through), <c>open</c> (no calls until <see cref="Until"/>) or
/// <c>half_open</c> (one trial call decides); <see cref="Since"/> is when it entered that state; <see cref="ReportedBy"/>
/// names the worker (consumer name) that wrote it.
/// </summary>
public sealed record ProviderCircuitState(
    string Provider,
    string State,
    DateTimeOffset Since,
    DateTimeOffset? Until,
    string ReportedBy)
{
    public const string Closed = "closed";
    public const string Open = "open";
    public const string HalfOpen = "half_open";

    private static readonly JsonSerializerOptions SerializerOptions = new(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
    };

    public string ToJson() => JsonSerializer.Serialize(this, SerializerOptions);

    /// <exception cref="JsonException">The text is not a circuit state.</exception>
    public static ProviderCircuitState FromJson(string json) =>
        JsonSerializer.Deserialize<ProviderCircuitState>(json, SerializerOptions)
        ?? throw new JsonException("A circuit state cannot be null.");
}
