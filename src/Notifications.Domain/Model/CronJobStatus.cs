namespace Notifications.Domain.Model;

public enum CronJobStatus
{
    Running,
    Completed,
    Failed,
}
