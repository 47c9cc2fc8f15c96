namespace Notifications.Domain.Alerts;

/// <summary>How bad an alert is; it picks the colour operators see in Slack and Discord.</summary>
public enum AlertSeverity
{
    Info,

    /// <summary>Look soon (e.g. 80% of the daily email quota used).</summary>
    Warning,

    /// <summary>Something failed or is about to (e.g. 90% of the quota, a cron run with many failures).</summary>
    Error,

    /// <summary>Delivery is stopped or degraded now (e.g. the quota is exhausted, a cron run failed outright).</summary>
    Critical,
}

/// <summary>One labelled value shown beside an alert's text (a count, a duration, an id).</summary>
public sealed record AlertField(string Name, string Value);

/// <summary>
/// A message for operators, posted to every configured webhook (Slack and/or Discord). The environment the service runs
/// in is added by the sender.
/// </summary>
public sealed record Alert(
    string Title,
    AlertSeverity Severity,
    string Text,
    IReadOnlyList<AlertField> Fields,
    DateTimeOffset Timestamp);
