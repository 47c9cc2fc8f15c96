using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Notifications.EmailWorker.Delivery;
using Notifications.EmailWorker.Email;
using Notifications.EmailWorker.Email.Providers;
using Notifications.EmailWorker.Email.Templates;

namespace Microsoft.Extensions.Hosting;

internal static class EmailChannelExtensions
{
    /// <summary>
    /// Registers the email channel's <see cref="IChannelDeliverer"/> with its options (section <c>Email</c>, validated on
    /// start), the quota (<c>Email:Quota</c>), unsubscribe signing (<c>Email:Unsubscribe</c>) and the configured
    /// provider. Needs the Postgres data source, the Redis client and an <c>IAlertSender</c> (<c>AddWebhookAlerts</c>).
    /// </summary>
    public static IHostApplicationBuilder AddEmailChannel(this IHostApplicationBuilder builder)
    {
        var configuration = builder.Configuration;
        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<IValidateOptions<EmailOptions>, EmailOptionsValidator>();
        builder.Services.AddOptions<EmailOptions>()
            .BindConfiguration(EmailOptions.SectionName)
            .PostConfigure(options =>
            {
                // An empty setting (e.g. Email__Provider=) means the default.
                if (string.IsNullOrWhiteSpace(options.Provider))
                {
                    options.Provider = EmailOptions.DevMailboxProvider;
                }
                // Links point at the API the AppHost runs unless configured otherwise.
                if (options.PublicBaseUrl is null && Uri.TryCreate(configuration[EmailOptions.ApiUrlConfigurationKey], UriKind.Absolute, out var apiUrl))
                {
                    options.PublicBaseUrl = apiUrl;
                }
                if (options.EffectiveProvider == EmailOptions.DevMailboxProvider && string.IsNullOrWhiteSpace(options.From))
                {
                    options.From = EmailOptions.DevelopmentFrom;
                }
            })
            .ValidateOnStart();
        builder.AddEmailQuota();
        builder.AddUnsubscribeTokens();

        builder.Services.AddSingleton<EmailTemplates>();
        builder.Services.AddSingleton<EmailContentStore>();
        builder.Services.AddSingleton<EmailComposer>();
        builder.Services.AddSingleton<EmailUserRateLimiter>();
        builder.Services.AddSingleton<EmailQuotaAlerts>();

        builder.Services.AddHttpClient(ResendEmailSender.HttpClientName)
            .ConfigureHttpClient((services, http) =>
            {
                http.BaseAddress = services.GetRequiredService<IOptions<EmailOptions>>().Value.Resend.BaseUrl;
                // The sender bounds each call by Email:Resend:Timeout, and sets the API key on each request.
                http.Timeout = Timeout.InfiniteTimeSpan;
            })
            // Without the default resilience pipeline: it never retries a POST (the consumer retries, with back-off and
            // the idempotency key), and its timeouts capped Email:Resend:Timeout at 10 s while costing two timers and
            // several async layers per email. Without the request loggers too: they only log below the Warning level
            // System.Net.Http.HttpClient is set to, yet open a logging scope per request. The provider call keeps its spans
            // and metrics (System.Net.Http's own, and the sender's email.send span).
            .ConfigureAdditionalHttpMessageHandlers((handlers, _) => handlers.Clear())
            .RemoveAllLoggers();
        builder.Services.AddSingleton<IEmailSender>(services =>
            services.GetRequiredService<IOptions<EmailOptions>>().Value.EffectiveProvider switch
            {
                EmailOptions.ResendProvider => ActivatorUtilities.CreateInstance<ResendEmailSender>(services),
                EmailOptions.SmtpProvider => ActivatorUtilities.CreateInstance<SmtpEmailSender>(services),
                _ => ActivatorUtilities.CreateInstance<DevMailboxEmailSender>(services),
            });
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IChannelDeliverer, EmailDeliverer>());
        return builder;
    }
}
