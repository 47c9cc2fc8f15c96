using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Notifications.Domain.Unsubscribe;

namespace Microsoft.Extensions.Hosting;

public static class UnsubscribeExtensions
{
    /// <summary>
    /// Registers <see cref="UnsubscribeTokens"/> with <see cref="UnsubscribeOptions"/> (section <c>Email:Unsubscribe</c>,
    /// validated on start: the key is required, and the published development key is refused outside Development).
    /// </summary>
    public static IHostApplicationBuilder AddUnsubscribeTokens(this IHostApplicationBuilder builder)
    {
        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<UnsubscribeOptions>, UnsubscribeOptionsValidator>());
        builder.Services.AddOptions<UnsubscribeOptions>().BindConfiguration(UnsubscribeOptions.SectionName).ValidateOnStart();
        builder.Services.TryAddSingleton<UnsubscribeTokens>();
        return builder;
    }
}
