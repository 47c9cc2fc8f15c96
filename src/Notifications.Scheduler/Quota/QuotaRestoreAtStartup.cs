namespace Notifications.Scheduler.Quota;

/// <summary>
/// Restores the email quota counters once when the scheduler starts, so a Redis that lost them while the scheduler was
/// down does not wait for the nightly <c>quota-reconcile</c> run to be corrected.
/// </summary>
internal sealed partial class QuotaRestoreAtStartup(
    IServiceScopeFactory scopeFactory,
    TimeProvider timeProvider,
    ILogger<QuotaRestoreAtStartup> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await using var scope = scopeFactory.CreateAsyncScope();
            var reconcile = scope.ServiceProvider.GetRequiredService<QuotaReconcileService>();
            await reconcile.RestoreLostCountersAsync(timeProvider.GetUtcNow(), stoppingToken);
        }
        catch (Exception exception) when (exception is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
        {
            Log.RestoreFailed(logger, exception);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 6053, Level = LogLevel.Warning,
            Message = "Could not check the email quota counters at start-up; the nightly quota-reconcile run will")]
        public static partial void RestoreFailed(ILogger logger, Exception exception);
    }
}
