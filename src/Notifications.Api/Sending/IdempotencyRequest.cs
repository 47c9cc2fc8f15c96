using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace Notifications.Api.Sending;

/// <summary>
/// A producer's <c>Idempotency-Key</c> for one request: whose key it is (<see cref="Scope"/>, the producer's identity, so
/// producers cannot collide), the key, and a hash of what was asked (route and body) to tell a repeat from a reuse.
/// </summary>
internal sealed record IdempotencyRequest(string Scope, string Key, string RequestHash)
{
    public const string HeaderName = "Idempotency-Key";
    public const string ReplayHeaderName = "Idempotency-Replay";
    public const int MaximumKeyLength = 255;

    /// <summary>
    /// The Postgres advisory lock taken while the request runs: a second request with the same key finds it taken and is
    /// answered 409. 64 bits of a SHA-256, so two different keys share a lock only by a vanishing chance.
    /// </summary>
    public long LockId => BinaryPrimitives.ReadInt64BigEndian(SHA256.HashData(Encoding.UTF8.GetBytes($"idempotency\n{Scope}\n{Key}")));

    /// <summary>Keys are 1–255 visible ASCII characters (UUIDs, ULIDs, hashes, …).</summary>
    public static bool IsValidKey(string key) => key.Length is > 0 and <= MaximumKeyLength && key.All(static character => character is > ' ' and < '\u007f');

    public static string Hash(string route, ReadOnlySpan<byte> body)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        hash.AppendData(Encoding.UTF8.GetBytes(route + "\n"));
        hash.AppendData(body);
        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }
}
