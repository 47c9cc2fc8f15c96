using Microsoft.Extensions.Configuration;

namespace Notifications.ServiceDefaults.Clients;

internal static class ConnectionStrings
{
    /// <summary>Reads <c>ConnectionStrings:{name}</c>, failing at start-up with the setting's name when it is missing.</summary>
    public static string GetRequired(IConfiguration configuration, string connectionName, string clientKind) =>
        configuration.GetConnectionString(connectionName) is { Length: > 0 } connectionString
            ? connectionString
            : throw new InvalidOperationException(
                $"The {clientKind} client '{connectionName}' has no connection string. " +
                $"Set 'ConnectionStrings:{connectionName}' (environment variable ConnectionStrings__{connectionName}), " +
                "or start the system through Notifications.AppHost, which provides it.");
}
