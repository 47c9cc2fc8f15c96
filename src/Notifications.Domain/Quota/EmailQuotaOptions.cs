using System.ComponentModel.DataAnnotations;

namespace Notifications.Domain.Quota;

/// <summary>
/// The email provider's quota (section <c>Email:Quota</c>): the worker counts every email against it atomically in
/// Redis (<see cref="Redis.RedisKeys.EmailQuotaDay"/>, <see cref="Redis.RedisKeys.EmailQuotaMonth"/>), the admin
/// metrics report it. Defaults are Resend's free tier.
/// </summary>
public sealed class EmailQuotaOptions
{
    public const string SectionName = "Email:Quota";

    /// <summary>Emails per UTC day. Default 100.</summary>
    [Range(1, int.MaxValue)]
    public int DailyLimit { get; set; } = 100;

    /// <summary>Emails per UTC month. Default 3,000.</summary>
    [Range(1, int.MaxValue)]
    public int MonthlyLimit { get; set; } = 3000;
}
