using System.Globalization;
using Microsoft.Extensions.Options;
using Notifications.Domain.Alerts;
using Notifications.Domain.Quota;

namespace Notifications.EmailWorker.Email;

/// <summary>
/// Alerts operators when the day's email count reaches 80% (warning), 90% (error) and 100% (critical) of the daily
/// limit. The quota script decides which worker alerts (once per threshold per UTC day across all workers); the alert
/// is posted in the background, so a slow or failing webhook never delays or fails an email.
/// </summary>
internal sealed partial class EmailQuotaAlerts(
    IAlertSender alerts,
    IOptions<EmailQuotaOptions> options,
    TimeProvider timeProvider,
    ILogger<EmailQuotaAlerts> logger)
{
    private readonly EmailQuotaOptions _options = options.Value;

    public void Raise(EmailQuotaDecision decision)
    {
        foreach (var percent in decision.CrossedAlertPercents)
        {
            _ = PostAsync(Describe(percent, decision));
        }
    }

    private async Task PostAsync(Alert alert)
    {
        try
        {
            // The sender bounds each post by its own timeout (Alerts:Timeout) and never throws for a failed webhook.
            await alerts.SendAsync(alert, CancellationToken.None);
        }
        catch (Exception exception)
        {
            Log.AlertFailed(logger, alert.Title, exception);
        }
    }

    private Alert Describe(int percent, EmailQuotaDecision decision)
    {
        var (severity, consequence) = percent switch
        {
            >= 100 => (AlertSeverity.Critical, "Normal-priority email is deferred until the quota resets; high and critical email still goes out."),
            >= 90 => (AlertSeverity.Error, "Normal-priority email will be deferred once the limit is reached."),
            _ => (AlertSeverity.Warning, "Non-urgent email can wait for digests; consider raising the provider plan."),
        };
        var resetsAt = EmailQuotaCalendar.NextDay(timeProvider.GetUtcNow());
        Log.QuotaThreshold(logger, percent, decision.DayCount, _options.DailyLimit);
        return new Alert(
            $"Email quota at {percent}% of the daily limit",
            severity,
            $"{decision.DayCount} of {_options.DailyLimit} emails counted on {decision.Day:yyyy-MM-dd} (UTC). {consequence}",
            [
                new AlertField("Sent today", decision.DayCount.ToString(CultureInfo.InvariantCulture)),
                new AlertField("Daily limit", _options.DailyLimit.ToString(CultureInfo.InvariantCulture)),
                new AlertField("Sent this month", $"{decision.MonthCount} of {_options.MonthlyLimit}"),
                new AlertField("Resets at", resetsAt.ToString("yyyy-MM-dd HH:mm 'UTC'", CultureInfo.InvariantCulture)),
            ],
            timeProvider.GetUtcNow());
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 5530, Level = LogLevel.Warning, Message = "Email quota at {Percent}% of the daily limit: {DayCount} of {DailyLimit}")]
        public static partial void QuotaThreshold(ILogger logger, int percent, long dayCount, int dailyLimit);

        [LoggerMessage(EventId = 5531, Level = LogLevel.Warning, Message = "The quota alert '{Title}' could not be posted")]
        public static partial void AlertFailed(ILogger logger, string title, Exception exception);
    }
}
