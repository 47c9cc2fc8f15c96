namespace Notifications.Api.Sending;

/// <summary>Runs <see cref="NotificationSender.WriteGroupsAsync"/>, the group commit of single sends, for the API's lifetime.</summary>
internal sealed class SingleSendGroupWriter(NotificationSender sender) : BackgroundService
{
    protected override Task ExecuteAsync(CancellationToken stoppingToken) => sender.WriteGroupsAsync(stoppingToken);
}
