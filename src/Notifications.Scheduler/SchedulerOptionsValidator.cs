using System.Globalization;
using Microsoft.Extensions.Options;
using Notifications.Domain.Scheduling;
using Quartz;

namespace Notifications.Scheduler;

/// <summary>Checks <see cref="SchedulerOptions"/>, naming each bad setting by its configuration key.</summary>
internal sealed class SchedulerOptionsValidator : IValidateOptions<SchedulerOptions>
{
    public ValidateOptionsResult Validate(string? name, SchedulerOptions options)
    {
        var failures = new List<string>();
        const string section = SchedulerOptions.SectionName;

        foreach (var job in CronJobCatalog.All)
        {
            var key = $"{section}:Jobs:{CronSchedules.KeyOf(job.Name)}";
            var schedule = options.Jobs.For(job.Name);
            if (DescribeCronProblem(schedule.Cron) is { } cronProblem)
            {
                failures.Add($"{key}:Cron '{schedule.Cron}' is not a Quartz cron expression ({job.Name}): {cronProblem}");
            }
            if (!TimeZoneInfo.TryFindSystemTimeZoneById(schedule.TimeZone ?? "", out _))
            {
                failures.Add($"{key}:TimeZone '{schedule.TimeZone}' is not a time zone ({job.Name}); use an IANA id such as 'UTC' or 'Europe/Berlin'.");
            }
        }

        var digests = options.Digests;
        Range(failures, $"{section}:Digests:BatchSize", digests.BatchSize, 1, 10_000);
        Range(failures, $"{section}:Digests:Parallelism", digests.Parallelism, 1, 16);
        Range(failures, $"{section}:Digests:DefaultMaxItems", digests.DefaultMaxItems, 1, Domain.Digests.DigestScheduleValidator.MaxItemsLimit);
        Range(failures, $"{section}:Digests:DefaultLookback", digests.DefaultLookback, TimeSpan.FromMinutes(1), TimeSpan.FromDays(31));

        Range(failures, $"{section}:DeferredRelease:BatchSize", options.DeferredRelease.BatchSize, 1, 10_000);

        var stuck = options.StuckJobs;
        Range(failures, $"{section}:StuckJobs:Threshold", stuck.Threshold, TimeSpan.FromMinutes(1), TimeSpan.FromDays(7));
        Range(failures, $"{section}:StuckJobs:MaxRecoveries", stuck.MaxRecoveries, 0, 100);
        Range(failures, $"{section}:StuckJobs:BatchSize", stuck.BatchSize, 1, 10_000);

        var retention = options.Retention;
        Range(failures, $"{section}:Retention:BatchSize", retention.BatchSize, 1, 100_000);
        Range(failures, $"{section}:Retention:DispatchedOutboxAge", retention.DispatchedOutboxAge, TimeSpan.FromHours(1), TimeSpan.FromDays(3650));
        Range(failures, $"{section}:Retention:DeliveryLogAge", retention.DeliveryLogAge, TimeSpan.FromHours(1), TimeSpan.FromDays(3650));
        Range(failures, $"{section}:Retention:CronRunAge", retention.CronRunAge, TimeSpan.FromHours(1), TimeSpan.FromDays(3650));

        var alerts = options.Alerts;
        if (double.IsNaN(alerts.ErrorRateThreshold) || alerts.ErrorRateThreshold is < 0 or >= 1)
        {
            failures.Add($"{section}:Alerts:ErrorRateThreshold must be at least 0 and less than 1 (was {alerts.ErrorRateThreshold.ToString(CultureInfo.InvariantCulture)}).");
        }
        Range(failures, $"{section}:Alerts:ErrorRateMinimumItems", alerts.ErrorRateMinimumItems, 1, int.MaxValue);
        Range(failures, $"{section}:Alerts:FailedItemsThreshold", alerts.FailedItemsThreshold, 1, int.MaxValue);
        Range(failures, $"{section}:Alerts:ProcessingErrorsThreshold", alerts.ProcessingErrorsThreshold, 1, int.MaxValue);
        if (alerts.RepeatCooldown < TimeSpan.Zero || alerts.RepeatCooldown > TimeSpan.FromDays(1))
        {
            failures.Add($"{section}:Alerts:RepeatCooldown must be between 00:00:00 and 1.00:00:00 (was {alerts.RepeatCooldown:c}).");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    private static string? DescribeCronProblem(string? expression)
    {
        if (string.IsNullOrWhiteSpace(expression))
        {
            return "it is empty.";
        }
        try
        {
            CronExpression.Parse(expression);
            return null;
        }
        catch (FormatException exception)
        {
            return exception.Message;
        }
    }

    private static void Range(List<string> failures, string key, int value, int minimum, int maximum)
    {
        if (value < minimum || value > maximum)
        {
            failures.Add($"{key} must be between {minimum} and {maximum} (was {value}).");
        }
    }

    private static void Range(List<string> failures, string key, TimeSpan value, TimeSpan minimum, TimeSpan maximum)
    {
        if (value < minimum || value > maximum)
        {
            failures.Add($"{key} must be between {minimum:c} and {maximum:c} (was {value:c}).");
        }
    }
}
