using System.Globalization;
using Microsoft.Extensions.Options;
using Notifications.Domain.Alerts;
using Notifications.Domain.Model;
using Notifications.Domain.Persistence;
using Notifications.Domain.Redis;
using StackExchange.Redis;

namespace Notifications.Scheduler.Cron;

/// <summary>
/// Tells the operators (Slack/Discord through <see cref="IAlertSender"/>) about a cron run that failed, or that crossed
/// one of the <see cref="CronAlertSettings"/> thresholds: one alert per run, naming every reason, and no more than one
/// of a kind per job within <see cref="CronAlertSettings.RepeatCooldown"/>. Posting never fails the run.
/// </summary>
internal sealed partial class CronRunAlerts(
    IAlertSender sender,
    IDatabase redis,
    IOptions<SchedulerOptions> options,
    TimeProvider timeProvider,
    ILogger<CronRunAlerts> logger)
{
    /// <summary>Why <paramref name="outcome"/> deserves an alert; empty when it does not.</summary>
    public static IReadOnlyList<string> Reasons(CronRunOutcome outcome, CronAlertSettings settings)
    {
        var reasons = new List<string>();
        if (outcome.Status == CronJobStatus.Failed)
        {
            reasons.Add("the run failed");
        }
        var counts = outcome.Counts;
        if (counts.Found >= settings.ErrorRateMinimumItems && (double)counts.Failed / counts.Found > settings.ErrorRateThreshold)
        {
            reasons.Add(string.Create(CultureInfo.InvariantCulture,
                $"{counts.Failed} of {counts.Found} items failed, more than {settings.ErrorRateThreshold:P0}"));
        }
        if (counts.Failed >= settings.FailedItemsThreshold)
        {
            reasons.Add($"{counts.Failed} items failed (alert at {settings.FailedItemsThreshold})");
        }
        if (counts.Errors >= settings.ProcessingErrorsThreshold)
        {
            reasons.Add($"{counts.Errors} processing errors (alert at {settings.ProcessingErrorsThreshold})");
        }
        return reasons;
    }

    public async Task AlertIfNeededAsync(CronRunOutcome outcome, CancellationToken cancellationToken)
    {
        var reasons = Reasons(outcome, options.Value.Alerts);
        if (reasons.Count == 0)
        {
            return;
        }

        var failed = outcome.Status == CronJobStatus.Failed;
        var counts = outcome.Counts;
        List<AlertField> fields =
        [
            new("Job", outcome.JobName),
            new("Status", SnakeCaseEnum<CronJobStatus>.ToName(outcome.Status).ToUpperInvariant()),
            new("Execution id", outcome.ExecutionId?.ToString() ?? "not recorded"),
            new("Duration", string.Create(CultureInfo.InvariantCulture, $"{outcome.Duration.TotalSeconds:F1} s")),
            new("Results", $"Found: {counts.Found}, Completed: {counts.Completed}, Failed: {counts.Failed}, Skipped: {counts.Skipped}, Errors: {counts.Errors}"),
        ];
        if (outcome.ErrorMessage is { } error)
        {
            fields.Add(new("Error", error));
        }
        await SendAsync(outcome.JobName, failed ? "failed" : "failures", new Alert(
            failed ? $"Cron job {outcome.JobName} failed" : $"Cron job {outcome.JobName} had failures",
            failed ? AlertSeverity.Critical : AlertSeverity.Error,
            $"Cron job {outcome.JobName}: {string.Join("; ", reasons)}.",
            fields,
            timeProvider.GetUtcNow()), cancellationToken);
    }

    /// <summary>Runs of <paramref name="jobName"/> that died without recording their end were found and marked failed.</summary>
    public Task AlertOrphanedAsync(string jobName, int count, Guid markedBy, CancellationToken cancellationToken) =>
        SendAsync(jobName, "orphaned", new Alert(
            $"Cron job {jobName}: {count} run(s) never finished",
            AlertSeverity.Error,
            $"Cron job {jobName}: {count} earlier run(s) were still 'running' when the next run started, so their scheduler " +
            "instance stopped mid-run; they are now recorded as failed.",
            [new("Job", jobName), new("Status", "FAILED"), new("Orphaned runs", count.ToString(CultureInfo.InvariantCulture)), new("Marked by execution", markedBy.ToString())],
            timeProvider.GetUtcNow()), cancellationToken);

    private async Task SendAsync(string jobName, string kind, Alert alert, CancellationToken cancellationToken)
    {
        if (!await TryStartCooldownAsync(jobName, kind))
        {
            Log.AlertHeldBack(logger, alert.Title, options.Value.Alerts.RepeatCooldown);
            return;
        }
        try
        {
            await sender.SendAsync(alert, cancellationToken);
        }
        catch (Exception exception) when (exception is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            // The sender only throws on cancellation, but an alert must never turn a run into a failure.
            Log.AlertFailed(logger, alert.Title, exception);
        }
    }

    /// <summary>
    /// Whether no alert of this kind about this job was posted within the cooldown (and starts one). When Redis cannot
    /// say, the alert goes: a repeated alert is better than a missing one.
    /// </summary>
    private async Task<bool> TryStartCooldownAsync(string jobName, string kind)
    {
        var cooldown = options.Value.Alerts.RepeatCooldown;
        if (cooldown == TimeSpan.Zero)
        {
            return true;
        }
        try
        {
            return await redis.StringSetAsync(RedisKeys.CronAlertCooldown(jobName, kind), timeProvider.GetUtcNow().ToString("O"), cooldown, When.NotExists);
        }
        catch (Exception exception) when (exception is RedisException or TimeoutException)
        {
            Log.CooldownUnknown(logger, jobName, exception);
            return true;
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 6011, Level = LogLevel.Information,
            Message = "Not posting the alert '{Title}': one of its kind about this job was posted within the last {Cooldown}")]
        public static partial void AlertHeldBack(ILogger logger, string title, TimeSpan cooldown);

        [LoggerMessage(EventId = 6012, Level = LogLevel.Warning,
            Message = "Could not read the alert cooldown of cron job {JobName} from Redis; posting the alert")]
        public static partial void CooldownUnknown(ILogger logger, string jobName, Exception exception);

        [LoggerMessage(EventId = 6010, Level = LogLevel.Warning, Message = "Could not send the alert '{Title}'")]
        public static partial void AlertFailed(ILogger logger, string title, Exception exception);
    }
}
