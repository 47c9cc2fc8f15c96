using System.Text.Json;
using Notifications.Api.Apis.Jobs;

namespace Notifications.Api.Apis.DeadLetters;

/// <summary>
/// A job that could not be delivered, with the job as it stands now. <see cref="AttemptHistory"/> is the list of its
/// attempts when it was dead-lettered (<c>attempt</c>, <c>at</c>, <c>provider</c>, <c>outcome</c>, <c>httpStatusCode</c>,
/// <c>durationMs</c>, <c>error</c>); <see cref="RequeuedAt"/> is set once an operator requeued it.
/// </summary>
public sealed record DeadLetterItem(
    Guid Id,
    Guid JobId,
    string Channel,
    string ErrorType,
    int? HttpStatusCode,
    string? ProviderResponse,
    string? ErrorMessage,
    JsonElement AttemptHistory,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt,
    DateTimeOffset? RequeuedAt,
    int RequeueCount,
    JobSummary Job);

public sealed record DeadLetterPage(IReadOnlyList<DeadLetterItem> Items, int Total, int Limit, int Offset);

/// <summary>
/// <c>GET /api/admin/dlq/stats</c>: dead letters created in the last <see cref="Days"/> UTC days (today included), by
/// error type, by channel (every value present, zero when none) and by day (oldest first, every day of the window).
/// </summary>
public sealed record DeadLetterStats(
    int Days,
    DateTimeOffset Since,
    DateTimeOffset GeneratedAt,
    int Total,
    IReadOnlyDictionary<string, int> ByErrorType,
    IReadOnlyDictionary<string, int> ByChannel,
    IReadOnlyList<DeadLetterDayCount> ByDay);

public sealed record DeadLetterDayCount(DateOnly Day, int Count);
