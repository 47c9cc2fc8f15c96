using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Notifications.Domain.Quota;

namespace Microsoft.Extensions.Hosting;

public static class EmailQuotaExtensions
{
    /// <summary>
    /// Registers <see cref="EmailQuota"/> over the registered Redis <c>IDatabase</c> (call <c>AddRedisClient</c> too), with
    /// <see cref="EmailQuotaOptions"/> (section <c>Email:Quota</c>, validated on start).
    /// </summary>
    public static IHostApplicationBuilder AddEmailQuota(this IHostApplicationBuilder builder)
    {
        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<EmailQuotaOptions>, EmailQuotaOptionsValidator>());
        builder.Services.AddOptions<EmailQuotaOptions>().BindConfiguration(EmailQuotaOptions.SectionName).ValidateOnStart();
        builder.Services.TryAddSingleton<EmailQuota>();
        return builder;
    }
}
