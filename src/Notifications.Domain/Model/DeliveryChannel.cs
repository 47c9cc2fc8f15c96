namespace Notifications.Domain.Model;

/// <summary>
/// A way of reaching a user. Adding one (push, SMS, …) means a value here and a migration that widens the
/// <c>ck_*_channel</c> CHECK constraints to the new set.
/// </summary>
public enum DeliveryChannel
{
    InApp,
    Email,
}
