namespace Notifications.Api.Apis.Jobs;

/// <summary>A job as listed. Enum values (<c>kind</c>, <c>channel</c>, <c>status</c>, <c>priority</c>) are snake_case, as stored.</summary>
public sealed record JobSummary(
    Guid Id,
    string Kind,
    Guid? NotificationId,
    string UserId,
    string Channel,
    string Status,
    string Priority,
    int Attempts,
    DateTimeOffset ScheduledFor,
    DateTimeOffset? ProcessedAt,
    string? LastError,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt);

/// <summary><c>GET /api/jobs/{id}</c>: the job, its notification (null for digest jobs) and its attempts in order.</summary>
public sealed record JobDetails(
    JobSummary Job,
    string? ProviderMessageId,
    Guid? DigestJobId,
    long? ProcessingTimeMs,
    JobNotification? Notification,
    IReadOnlyList<JobDeliveryLog> DeliveryLogs);

public sealed record JobNotification(Guid Id, string Type, string Title);

public sealed record JobDeliveryLog(
    int Attempt,
    string Channel,
    string Provider,
    string Outcome,
    int? HttpStatusCode,
    long DurationMs,
    string? Error,
    DateTimeOffset CreatedAt);

public sealed record JobPage(IReadOnlyList<JobSummary> Items, int Total, int Limit, int Offset);

/// <summary>
/// <c>GET /api/jobs/metrics</c>. Counts cover jobs created in the last <see cref="Hours"/> hours; <see cref="OverdueJobs"/>
/// covers every job still waiting, whenever it was created.
/// </summary>
public sealed record JobMetrics(
    int Hours,
    DateTimeOffset Since,
    DateTimeOffset GeneratedAt,
    int Total,
    IReadOnlyDictionary<string, int> ByStatus,
    double? SuccessRate,
    double? AverageProcessingTimeMs,
    IReadOnlyList<ChannelMetrics> ByChannel,
    int OverdueJobs,
    IReadOnlyList<JobFailure> RecentFailures);

public sealed record ChannelMetrics(string Channel, int Total, IReadOnlyDictionary<string, int> ByStatus);

public sealed record JobFailure(Guid Id, string Channel, string? LastError, DateTimeOffset UpdatedAt);
