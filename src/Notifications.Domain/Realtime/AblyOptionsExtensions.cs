using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Notifications.Domain.Realtime;

namespace Microsoft.Extensions.Hosting;

public static class AblyOptionsExtensions
{
    /// <summary>
    /// Binds <see cref="AblyOptions"/> (section <c>Ably</c>) and validates them on start: the API signs token requests
    /// with the key, the worker publishes with it.
    /// </summary>
    public static IHostApplicationBuilder AddAblyOptions(this IHostApplicationBuilder builder)
    {
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<AblyOptions>, AblyOptionsValidator>());
        builder.Services.AddOptions<AblyOptions>().BindConfiguration(AblyOptions.SectionName).ValidateOnStart();
        return builder;
    }
}
