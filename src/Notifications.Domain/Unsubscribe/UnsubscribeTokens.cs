using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Options;

namespace Notifications.Domain.Unsubscribe;

/// <summary>What an unsubscribe link asks for: no more email to <see cref="UserId"/>, of one category or at all.</summary>
/// <param name="Category">The category to stop emailing; null for all email.</param>
public sealed record UnsubscribeRequest(string UserId, string? Category, DateTimeOffset ExpiresAt)
{
    public bool AllEmail => Category is null;
}

/// <summary>
/// Signs and verifies the tokens of unsubscribe links: <c>base64url(payload).base64url(HMAC-SHA256(key, payload))</c>,
/// the payload a small JSON object with the user id (<c>u</c>), the category (<c>c</c>, absent for all email) and the
/// expiry in Unix seconds (<c>e</c>). The token is the whole credential, so it carries nothing secret and cannot be
/// altered or extended without the key.
/// </summary>
public sealed class UnsubscribeTokens(IOptions<UnsubscribeOptions> options, TimeProvider timeProvider)
{
    private readonly byte[] _key = Encoding.UTF8.GetBytes(options.Value.SigningKey);
    private readonly TimeSpan _lifetime = options.Value.TokenLifetime;

    private const int MaximumTokenLength = 4096;

    /// <summary>A token for <paramref name="userId"/>, for <paramref name="category"/> (null: all email), valid for the configured lifetime.</summary>
    public string Create(string userId, string? category)
    {
        var expiresAt = timeProvider.GetUtcNow() + _lifetime;
        var buffer = new MemoryStream(128);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("u", userId);
            if (category is not null)
            {
                writer.WriteString("c", category);
            }
            writer.WriteNumber("e", expiresAt.ToUnixTimeSeconds());
            writer.WriteEndObject();
        }
        var payload = buffer.GetBuffer().AsSpan(0, (int)buffer.Length);
        return string.Concat(Base64Url.EncodeToString(payload), ".", Base64Url.EncodeToString(HMACSHA256.HashData(_key, payload)));
    }

    /// <summary>
    /// Checks the signature and the expiry. False, with why in <paramref name="error"/>, for a missing, malformed,
    /// tampered or expired token.
    /// </summary>
    public bool TryVerify(string? token, out UnsubscribeRequest request, out string error)
    {
        request = null!;
        if (string.IsNullOrEmpty(token) || token.Length > MaximumTokenLength)
        {
            error = "The unsubscribe token is missing.";
            return false;
        }
        var dot = token.IndexOf('.', StringComparison.Ordinal);
        byte[] payload, signature;
        try
        {
            if (dot <= 0)
            {
                throw new FormatException();
            }
            payload = Base64Url.DecodeFromChars(token.AsSpan(0, dot));
            signature = Base64Url.DecodeFromChars(token.AsSpan(dot + 1));
        }
        catch (FormatException)
        {
            error = "The unsubscribe token is malformed.";
            return false;
        }
        if (!CryptographicOperations.FixedTimeEquals(HMACSHA256.HashData(_key, payload), signature))
        {
            error = "The unsubscribe token's signature is not valid.";
            return false;
        }
        if (!TryReadPayload(payload, out var userId, out var category, out var expiresAt))
        {
            error = "The unsubscribe token is malformed.";
            return false;
        }
        if (expiresAt <= timeProvider.GetUtcNow())
        {
            error = "The unsubscribe link has expired; use the link in a more recent email.";
            return false;
        }
        request = new UnsubscribeRequest(userId, category, expiresAt);
        error = "";
        return true;
    }

    private static bool TryReadPayload(byte[] payload, out string userId, out string? category, out DateTimeOffset expiresAt)
    {
        userId = "";
        category = null;
        expiresAt = default;
        try
        {
            using var document = JsonDocument.Parse(payload);
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object
                || !root.TryGetProperty("u", out var user) || user.GetString() is not { Length: > 0 } id
                || !root.TryGetProperty("e", out var expiry) || !expiry.TryGetInt64(out var seconds))
            {
                return false;
            }
            userId = id;
            category = root.TryGetProperty("c", out var scope) ? scope.GetString() : null;
            expiresAt = DateTimeOffset.FromUnixTimeSeconds(seconds);
            return true;
        }
        catch (Exception exception) when (exception is JsonException or InvalidOperationException or ArgumentOutOfRangeException)
        {
            return false;
        }
    }
}
