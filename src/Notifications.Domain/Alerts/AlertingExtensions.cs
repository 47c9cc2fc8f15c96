using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Notifications.Domain.Alerts;

namespace Microsoft.Extensions.Hosting;

public static class AlertingExtensions
{
    /// <summary>
    /// Registers <see cref="IAlertSender"/> posting to the webhooks of <see cref="AlertOptions"/> (section <c>Alerts</c>,
    /// validated on start). The alert's environment defaults to the host's.
    /// </summary>
    public static IHostApplicationBuilder AddWebhookAlerts(this IHostApplicationBuilder builder)
    {
        var environmentName = builder.Environment.EnvironmentName;
        builder.Services.AddSingleton<IValidateOptions<AlertOptions>, AlertOptionsValidator>();
        builder.Services.AddOptions<AlertOptions>()
            .BindConfiguration(AlertOptions.SectionName)
            .PostConfigure(options => options.Environment ??= environmentName)
            .ValidateOnStart();
        builder.Services.AddHttpClient<IAlertSender, WebhookAlertSender>();
        return builder;
    }
}
