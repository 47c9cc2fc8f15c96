using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;

namespace Notifications.Testing;

internal static class FreePort
{
    public static int Get()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}

internal static class Secret
{
    /// <summary>128 random bits as hex: safe inside Npgsql and StackExchange.Redis connection strings alike.</summary>
    public static string Generate() => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
}
