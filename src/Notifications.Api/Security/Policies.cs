namespace Notifications.Api.Security;

/// <summary>Authorization policy names; apply one on each API group, e.g. <c>.RequireAuthorization(Policies.User)</c>.</summary>
public static class Policies
{
    /// <summary>Any valid token with a <c>sub</c>: the caller is that user and sees only their own data.</summary>
    public const string User = "user";

    /// <summary>May send notifications: scope <c>notifications:send</c> or role <c>producer</c>.</summary>
    public const string Producer = "producer";

    /// <summary>Operators: role <c>admin</c>.</summary>
    public const string Admin = "admin";
}

/// <summary>JWT claim names, kept as issued (inbound claim mapping is off).</summary>
public static class ClaimNames
{
    public const string Subject = "sub";
    public const string Role = "role";

    /// <summary>Space-separated scopes (RFC 8693 §4.2); a token may also carry several <c>scope</c> claims.</summary>
    public const string Scope = "scope";
}

public static class Roles
{
    public const string Admin = "admin";
    public const string Producer = "producer";
}

public static class Scopes
{
    public const string NotificationsSend = "notifications:send";
}
