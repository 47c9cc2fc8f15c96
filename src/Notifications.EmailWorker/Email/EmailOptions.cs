using MailKit.Security;
using Microsoft.Extensions.Options;
using MimeKit;

namespace Notifications.EmailWorker.Email;

/// <summary>
/// The email channel (section <c>Email</c>): which provider sends, from which address, where links point, and the
/// per-user rate limit. The quota is <see cref="Domain.Quota.EmailQuotaOptions"/> (<c>Email:Quota</c>), unsubscribe
/// signing <see cref="Domain.Unsubscribe.UnsubscribeOptions"/> (<c>Email:Unsubscribe</c>).
/// </summary>
public sealed class EmailOptions
{
    public const string SectionName = "Email";

    public const string DevMailboxProvider = "dev-mailbox";
    public const string ResendProvider = "resend";
    public const string SmtpProvider = "smtp";

    /// <summary>The sender used while real email is off, and when no <see cref="From"/> is configured for it.</summary>
    public const string DevelopmentFrom = "Notifications <notifications@localhost>";

    /// <summary>The configuration key of the API's URL the AppHost injects (Aspire's service-discovery shape).</summary>
    public const string ApiUrlConfigurationKey = "services:api:http:0";

    /// <summary><c>dev-mailbox</c> (default), <c>resend</c> or <c>smtp</c>; used only when <see cref="EnableRealEmails"/> is on.</summary>
    public string Provider { get; set; } = DevMailboxProvider;

    /// <summary>Off (the default): every email goes to the dev mailbox, whatever <see cref="Provider"/> says.</summary>
    public bool EnableRealEmails { get; set; }

    /// <summary>The sender, <c>Name &lt;address&gt;</c> or a bare address. Required for a real provider.</summary>
    public string? From { get; set; }

    /// <summary>Where the API is reachable from a reader's mail client (unsubscribe links). Default: the API URL the AppHost injects.</summary>
    public Uri? PublicBaseUrl { get; set; }

    /// <summary>An address that unsubscribes by mail, offered in <c>List-Unsubscribe</c> beside the link. Default: none.</summary>
    public string? UnsubscribeMailto { get; set; }

    public ResendOptions Resend { get; set; } = new();

    public SmtpOptions Smtp { get; set; } = new();

    public EmailUserRateLimitOptions UserRateLimit { get; set; } = new();

    /// <summary>The provider that actually sends: <see cref="Provider"/> with real email on, else the dev mailbox.</summary>
    public string EffectiveProvider => EnableRealEmails ? Provider : DevMailboxProvider;
}

/// <summary>Resend's REST API (section <c>Email:Resend</c>).</summary>
public sealed class ResendOptions
{
    /// <summary>The API key (<c>re_…</c>). Required when Resend sends.</summary>
    public string? ApiKey { get; set; }

    /// <summary>Default <c>https://api.resend.com/</c>.</summary>
    public Uri BaseUrl { get; set; } = new("https://api.resend.com/");

    /// <summary>How long one request may take before it counts as a transient failure. Default 10 seconds.</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(10);
}

/// <summary>An SMTP relay (section <c>Email:Smtp</c>).</summary>
public sealed class SmtpOptions
{
    /// <summary>Required when SMTP sends.</summary>
    public string? Host { get; set; }

    /// <summary>Default 587 (submission).</summary>
    public int Port { get; set; } = 587;

    /// <summary>
    /// <c>StartTls</c> (default: upgrade or fail), <c>SslOnConnect</c> (port 465), <c>StartTlsWhenAvailable</c>,
    /// <c>Auto</c> (by port) or <c>None</c> (a local relay only).
    /// </summary>
    public SecureSocketOptions Security { get; set; } = SecureSocketOptions.StartTls;

    /// <summary>With <see cref="Password"/>, authenticates; default none (no authentication).</summary>
    public string? Username { get; set; }

    public string? Password { get; set; }

    /// <summary>How long connecting or one command may take. Default 30 seconds.</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Connections kept open and used side by side. Default 4.</summary>
    public int MaxConnections { get; set; } = 4;
}

/// <summary>How many emails one user may receive (section <c>Email:UserRateLimit</c>), across every worker.</summary>
public sealed class EmailUserRateLimitOptions
{
    /// <summary>Default true. Critical emails are never limited.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>Emails per user per <see cref="Window"/>. Default 10.</summary>
    public int Limit { get; set; } = 10;

    /// <summary>A sliding window. Default one hour.</summary>
    public TimeSpan Window { get; set; } = TimeSpan.FromHours(1);
}

/// <summary>Refuses to start with settings that cannot send, naming the setting.</summary>
internal sealed class EmailOptionsValidator : IValidateOptions<EmailOptions>
{
    private static readonly TimeSpan MaximumTimeout = TimeSpan.FromMinutes(5);

    public ValidateOptionsResult Validate(string? name, EmailOptions options)
    {
        var failures = new List<string>();
        const string section = EmailOptions.SectionName;

        if (options.Provider is not (EmailOptions.DevMailboxProvider or EmailOptions.ResendProvider or EmailOptions.SmtpProvider))
        {
            failures.Add($"{section}:Provider must be '{EmailOptions.DevMailboxProvider}', '{EmailOptions.ResendProvider}' or '{EmailOptions.SmtpProvider}' (was '{options.Provider}').");
        }
        var real = options.EffectiveProvider != EmailOptions.DevMailboxProvider;
        if (string.IsNullOrWhiteSpace(options.From))
        {
            if (real)
            {
                failures.Add($"{section}:From is required to send real email: the sender, e.g. 'Acme <notifications@acme.example>'.");
            }
        }
        else if (!MailboxAddress.TryParse(options.From, out _))
        {
            failures.Add($"{section}:From is not an email address (was '{options.From}').");
        }
        if (options.PublicBaseUrl is null)
        {
            failures.Add($"{section}:PublicBaseUrl is required: the API's public URL, for unsubscribe links (e.g. https://notifications.example).");
        }
        else if (!options.PublicBaseUrl.IsAbsoluteUri || options.PublicBaseUrl.Scheme is not ("http" or "https"))
        {
            failures.Add($"{section}:PublicBaseUrl must be an absolute http(s) URL (was '{options.PublicBaseUrl}').");
        }
        if (options.UnsubscribeMailto is { Length: > 0 } mailto && !MailboxAddress.TryParse(mailto, out _))
        {
            failures.Add($"{section}:UnsubscribeMailto is not an email address (was '{mailto}').");
        }

        if (options.EffectiveProvider == EmailOptions.ResendProvider)
        {
            if (string.IsNullOrWhiteSpace(options.Resend.ApiKey))
            {
                failures.Add($"{section}:Resend:ApiKey is required to send through Resend (a key 're_…' from the Resend dashboard).");
            }
            if (!options.Resend.BaseUrl.IsAbsoluteUri)
            {
                failures.Add($"{section}:Resend:BaseUrl must be an absolute URL (was '{options.Resend.BaseUrl}').");
            }
            ValidateTimeout($"{section}:Resend:Timeout", options.Resend.Timeout, failures);
        }
        if (options.EffectiveProvider == EmailOptions.SmtpProvider)
        {
            if (string.IsNullOrWhiteSpace(options.Smtp.Host))
            {
                failures.Add($"{section}:Smtp:Host is required to send through SMTP.");
            }
            if (options.Smtp.Port is < 1 or > 65535)
            {
                failures.Add($"{section}:Smtp:Port must be between 1 and 65535 (was {options.Smtp.Port}).");
            }
            if (string.IsNullOrEmpty(options.Smtp.Username) != string.IsNullOrEmpty(options.Smtp.Password))
            {
                failures.Add($"{section}:Smtp:Username and {section}:Smtp:Password go together: set both to authenticate, or neither.");
            }
            if (options.Smtp.MaxConnections is < 1 or > 100)
            {
                failures.Add($"{section}:Smtp:MaxConnections must be between 1 and 100 (was {options.Smtp.MaxConnections}).");
            }
            ValidateTimeout($"{section}:Smtp:Timeout", options.Smtp.Timeout, failures);
        }

        if (options.UserRateLimit.Limit < 1)
        {
            failures.Add($"{section}:UserRateLimit:Limit must be at least 1 (was {options.UserRateLimit.Limit}).");
        }
        if (options.UserRateLimit.Window <= TimeSpan.Zero || options.UserRateLimit.Window > TimeSpan.FromDays(1))
        {
            failures.Add($"{section}:UserRateLimit:Window must be more than zero and at most 1.00:00:00 (was {options.UserRateLimit.Window}).");
        }
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    private static void ValidateTimeout(string key, TimeSpan timeout, List<string> failures)
    {
        if (timeout <= TimeSpan.Zero || timeout > MaximumTimeout)
        {
            failures.Add($"{key} must be more than zero and at most {MaximumTimeout} (was {timeout}).");
        }
    }
}
