using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Notifications.Api.Apis.Realtime;
using Notifications.Domain.Messaging;

namespace Notifications.Api.Realtime;

/// <summary>
/// Signs Ably token requests (Ably's "signed token request" auth): the browser posts one to Ably's
/// <c>/keys/{keyName}/requestToken</c> and gets a token limited to <see cref="Capability"/>, without ever seeing the key.
/// </summary>
internal static class AblyTokenRequests
{
    /// <summary>Ably requires at least 16 characters of nonce; 16 random bytes as hex give 32.</summary>
    private const int NonceBytes = 16;

    public static AblyTokenRequest Create(string keyName, string keySecret, string userId, TimeSpan ttl, DateTimeOffset now)
    {
        var ttlMs = (long)ttl.TotalMilliseconds;
        var capability = Capability(userId);
        var timestamp = now.ToUnixTimeMilliseconds();
        var nonce = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(NonceBytes));
        return new AblyTokenRequest(keyName, ttlMs, capability, userId, timestamp, nonce,
            Mac(keySecret, keyName, ttlMs, capability, userId, timestamp, nonce));
    }

    /// <summary>Subscribe, and nothing else, on the user's own channel: <c>{"notifications:&lt;userId&gt;":["subscribe"]}</c>.</summary>
    public static string Capability(string userId) =>
        JsonSerializer.Serialize(new Dictionary<string, string[]> { [InAppMessage.AblyChannelName(userId)] = ["subscribe"] });

    /// <summary>
    /// base64(HMAC-SHA256(keySecret, keyName \n ttl \n capability \n clientId \n timestamp \n nonce \n)), the text Ably
    /// signs the same way to check the request.
    /// </summary>
    public static string Mac(string keySecret, string keyName, long ttlMs, string capability, string clientId, long timestamp, string nonce)
    {
        var signed = string.Create(CultureInfo.InvariantCulture, $"{keyName}\n{ttlMs}\n{capability}\n{clientId}\n{timestamp}\n{nonce}\n");
        return Convert.ToBase64String(HMACSHA256.HashData(Encoding.UTF8.GetBytes(keySecret), Encoding.UTF8.GetBytes(signed)));
    }
}
