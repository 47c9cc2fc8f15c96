namespace Notifications.Api.Apis.CronJobs;

/// <summary>What a run did: items found, completed, failed, skipped, and processing errors.</summary>
public sealed record CronRunResults(int Found, int Completed, int Failed, int Skipped, int Errors);

/// <summary>One run of a scheduled job. <c>status</c> is <c>running</c>, <c>completed</c> or <c>failed</c>.</summary>
public sealed record CronRun(
    Guid Id,
    string JobName,
    string Status,
    DateTimeOffset StartedAt,
    DateTimeOffset? CompletedAt,
    long? DurationMs,
    CronRunResults? Results,
    string? ErrorMessage);

/// <summary><c>GET /api/admin/cron-jobs</c>: the latest runs of each job, newest first.</summary>
public sealed record CronRunList(IReadOnlyList<CronRun> Items, int LimitPerJob);

/// <summary>
/// One job's runs started in the window. <c>successRate</c> is completed / (completed + failed), null before any run
/// finished; <c>averageDurationMs</c> covers runs that recorded a duration.
/// </summary>
public sealed record CronJobStats(
    string Name,
    string Description,
    int Executions,
    int Running,
    int Completed,
    int Failed,
    double? SuccessRate,
    double? AverageDurationMs,
    long ItemsFound,
    long ItemsProcessed,
    long ItemsFailed,
    long ItemsSkipped,
    long ProcessingErrors,
    DateTimeOffset? LastStartedAt,
    string? LastStatus);

/// <summary><c>GET /api/admin/cron-jobs/stats</c>: every job of the catalogue, over runs started since <c>since</c>.</summary>
public sealed record CronJobStatsReport(int Hours, DateTimeOffset Since, IReadOnlyList<CronJobStats> Jobs);

/// <summary><c>POST /api/admin/cron-jobs/{name}/trigger</c>: the run was handed to the scheduler replicas.</summary>
public sealed record CronJobTriggered(string JobName, DateTimeOffset RequestedAt);
