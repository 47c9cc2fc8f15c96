namespace Notifications.Domain;

/// <summary>Names of the AppHost's resources, which are also the connection-string names the services read.</summary>
public static class ResourceNames
{
    public const string Database = "notificationsdb";
    public const string Redis = "redis";
}
