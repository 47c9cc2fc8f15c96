using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;

namespace Notifications.Domain.Quota;

/// <summary>
/// The email provider's quota (section <c>Email:Quota</c>): the worker counts every email against it atomically in
/// Redis (<see cref="Redis.RedisKeys.EmailQuotaDay"/>, <see cref="Redis.RedisKeys.EmailQuotaMonth"/>), the admin
/// metrics report it. Defaults are Resend's free tier.
/// </summary>
public sealed class EmailQuotaOptions
{
    public const string SectionName = "Email:Quota";

    /// <summary>
    /// Whether emails are counted and limited at all. Default true; off only for benchmarks and providers without a
    /// quota (nothing is counted then, so the admin metrics show zero).
    /// </summary>
    public bool Enabled { get; set; } = true;

    /// <summary>Emails per UTC day. Default 100.</summary>
    [Range(1, int.MaxValue)]
    public int DailyLimit { get; set; } = 100;

    /// <summary>Emails per UTC month. Default 3,000.</summary>
    [Range(1, int.MaxValue)]
    public int MonthlyLimit { get; set; } = 3000;
}

internal sealed class EmailQuotaOptionsValidator : IValidateOptions<EmailQuotaOptions>
{
    public ValidateOptionsResult Validate(string? name, EmailQuotaOptions options)
    {
        var failures = new List<string>();
        const string section = EmailQuotaOptions.SectionName;
        if (options.DailyLimit < 1)
        {
            failures.Add($"{section}:DailyLimit must be at least 1 (was {options.DailyLimit}).");
        }
        if (options.MonthlyLimit < 1)
        {
            failures.Add($"{section}:MonthlyLimit must be at least 1 (was {options.MonthlyLimit}).");
        }
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
