namespace Notifications.Domain.Model;

/// <summary>What a preference row's <c>ScopeKey</c> names. A type rule wins over its category's rule.</summary>
public enum PreferenceScope
{
    Category,
    Type,
}
