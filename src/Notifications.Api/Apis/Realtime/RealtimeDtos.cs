namespace Notifications.Api.Apis.Realtime;

/// <summary>
/// <c>POST /api/notifications/stream-token</c>: a token that opens only the caller's event stream, for browsers'
/// <c>EventSource</c>, which cannot send headers. <see cref="StreamUrl"/> is the stream's path with the token in it.
/// </summary>
public sealed record StreamToken(string AccessToken, DateTimeOffset ExpiresAt, string StreamUrl);

/// <summary>
/// An Ably TokenRequest, as Ably's client libraries take it from an <c>authUrl</c>: <see cref="Ttl"/> in milliseconds,
/// <see cref="Capability"/> a JSON string, <see cref="Timestamp"/> Unix milliseconds, <see cref="Mac"/> the base64
/// HMAC-SHA256 signature.
/// </summary>
public sealed record AblyTokenRequest(
    string KeyName,
    long Ttl,
    string Capability,
    string ClientId,
    long Timestamp,
    string Nonce,
    string Mac);
