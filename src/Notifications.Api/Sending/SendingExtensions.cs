using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Notifications.Api.Sending;

internal static class SendingExtensions
{
    /// <summary>
    /// The send path: <see cref="NotificationSender"/>, the group commit of its single sends, and its options (validated
    /// on start). Needs the database and the outbox relay (its wakeup) registered.
    /// </summary>
    public static void AddNotificationSending(this IHostApplicationBuilder builder)
    {
        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<IValidateOptions<SendingOptions>, SendingOptionsValidator>();
        builder.Services.AddOptions<SendingOptions>().BindConfiguration(SendingOptions.SectionName).ValidateOnStart();
        builder.Services.AddSingleton<NotificationSender>();
        builder.Services.AddHostedService<SingleSendGroupWriter>();
    }
}
