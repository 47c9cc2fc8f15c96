using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Notifications.Api.Apis.Jobs;
using Notifications.Api.Problems;
using Notifications.Api.RateLimiting;
using Notifications.Api.Security;
using Notifications.Domain.Model;
using Notifications.Domain.Persistence;

namespace Notifications.Api.Apis;

/// <summary>
/// <c>/api/jobs</c>: the caller's delivery jobs — one job with its attempts, cancelling a job that has not gone out,
/// a filtered page of jobs, and metrics. A user sees only their own jobs (anyone else's id answers 404, exactly like
/// an id that does not exist); a caller with role <c>admin</c> sees, cancels and counts every user's jobs.
/// </summary>
public static class JobsApi
{
    public const int DefaultLimit = 20;
    public const int MaximumLimit = 100;
    public const int DefaultHours = 24;
    public const int MaximumHours = 720;

    /// <summary>A waiting job (pending, queued, deferred) whose <c>scheduled_for</c> is further back than this is overdue.</summary>
    public static readonly TimeSpan OverdueThreshold = TimeSpan.FromMinutes(5);

    /// <summary>The statuses a job can still be cancelled in: nothing has been handed to a provider.</summary>
    private static readonly DeliveryJobStatus[] CancellableStatuses =
        [DeliveryJobStatus.Pending, DeliveryJobStatus.Queued, DeliveryJobStatus.Deferred, DeliveryJobStatus.DigestPending];

    private static readonly DeliveryJobStatus[] WaitingStatuses =
        [DeliveryJobStatus.Pending, DeliveryJobStatus.Queued, DeliveryJobStatus.Deferred];

    private const string NewestFirst = "-created_at";
    private static readonly string[] SortOrders = ["created_at", NewestFirst, "scheduled_for", "-scheduled_for"];

    private const int RecentFailureCount = 10;

    public static IEndpointRouteBuilder MapJobsApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/jobs")
            .WithTags("Jobs")
            .RequireAuthorization(Policies.User)
            .RequireUserRateLimit();

        api.MapGet("", ListJobs).WithName("ListJobs").WithSummary("List delivery jobs, filtered, sorted and paged");
        // The guid constraint on the routes below is what keeps /api/jobs/metrics from being read as a job id.
        api.MapGet("/metrics", GetMetrics).WithName("GetJobMetrics").WithSummary("Delivery job metrics over the last hours");
        api.MapGet("/{id:guid}", GetJob).WithName("GetJob").WithSummary("A delivery job with its delivery attempts");
        api.MapDelete("/{id:guid}", CancelJob).WithName("CancelJob").WithSummary("Cancel a job that has not been sent");
        return app;
    }

    internal static async Task<Results<Ok<JobDetails>, ProblemHttpResult>> GetJob(
        Guid id, ClaimsPrincipal user, NotificationsDbContext db, CancellationToken cancellationToken)
    {
        var row = await (
                from job in VisibleJobs(db, user)
                where job.Id == id
                join notification in db.Notifications on job.NotificationId equals (Guid?)notification.Id into notifications
                from notification in notifications.DefaultIfEmpty()
                select new
                {
                    Job = job,
                    Notification = notification == null ? null : new JobNotification(notification.Id, notification.Type, notification.Title),
                })
            .AsNoTracking()
            .FirstOrDefaultAsync(cancellationToken);
        if (row is null)
        {
            return JobNotFound(id);
        }

        var logs = await db.DeliveryLogs.AsNoTracking()
            .Where(log => log.JobId == id)
            .OrderBy(log => log.Attempt).ThenBy(log => log.CreatedAt)
            .ToListAsync(cancellationToken);

        var found = row.Job;
        return TypedResults.Ok(new JobDetails(
            ToSummary(found),
            found.ProviderMessageId,
            found.DigestJobId,
            found.ProcessedAt is { } processedAt ? (long)(processedAt - found.CreatedAt).TotalMilliseconds : null,
            row.Notification,
            [.. logs.Select(log => new JobDeliveryLog(
                log.Attempt,
                SnakeCaseEnum<DeliveryChannel>.ToName(log.Channel),
                log.Provider,
                SnakeCaseEnum<DeliveryOutcome>.ToName(log.Outcome),
                log.HttpStatusCode,
                log.DurationMs,
                log.Error,
                log.CreatedAt))]));
    }

    /// <summary>
    /// Cancels with one conditional UPDATE, so a worker that claims the job at the same moment either sees it
    /// cancelled or makes this request answer 409; nothing is read and then overwritten. A queued job may still have
    /// an entry on its delivery stream: the worker re-reads the row before sending and skips cancelled jobs.
    /// </summary>
    internal static async Task<Results<Ok<JobSummary>, ProblemHttpResult>> CancelJob(
        Guid id, ClaimsPrincipal user, NotificationsDbContext db, TimeProvider timeProvider, CancellationToken cancellationToken)
    {
        var now = timeProvider.GetUtcNow();
        var cancelled = await VisibleJobs(db, user)
            .Where(job => job.Id == id && CancellableStatuses.Contains(job.Status))
            .ExecuteUpdateAsync(
                setters => setters
                    .SetProperty(job => job.Status, DeliveryJobStatus.Cancelled)
                    .SetProperty(job => job.UpdatedAt, now),
                cancellationToken);

        var current = await VisibleJobs(db, user).AsNoTracking().FirstOrDefaultAsync(job => job.Id == id, cancellationToken);
        if (current is null)
        {
            return JobNotFound(id);
        }
        if (cancelled == 0)
        {
            var status = SnakeCaseEnum<DeliveryJobStatus>.ToName(current.Status);
            return TypedResults.Problem(
                statusCode: StatusCodes.Status409Conflict,
                title: "The job cannot be cancelled.",
                detail: $"The job is {status}; only pending, queued, deferred or digest_pending jobs can be cancelled.",
                extensions: new Dictionary<string, object?> { ["jobStatus"] = status });
        }
        return TypedResults.Ok(ToSummary(current));
    }

    /// <summary>
    /// <paramref name="from"/> and <paramref name="to"/> bound <c>created_at</c>, both inclusive; <paramref name="type"/>
    /// is the notification type (digest jobs, which have none, never match it).
    /// </summary>
    internal static async Task<Results<Ok<JobPage>, ValidationProblem>> ListJobs(
        ClaimsPrincipal user,
        NotificationsDbContext db,
        CancellationToken cancellationToken,
        string? status = null,
        string? channel = null,
        string? type = null,
        DateTimeOffset? from = null,
        DateTimeOffset? to = null,
        string? sort = null,
        int? limit = null,
        int? offset = null)
    {
        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        var statusFilter = ParseEnum<DeliveryJobStatus>("status", status, errors);
        var channelFilter = ParseEnum<DeliveryChannel>("channel", channel, errors);
        var list = ListParameters.Parse(from, to, limit, offset, DefaultLimit, MaximumLimit, errors);
        var order = sort ?? NewestFirst;
        if (!SortOrders.Contains(order, StringComparer.Ordinal))
        {
            errors["sort"] = [$"Must be one of: {string.Join(", ", SortOrders)}."];
        }
        if (errors.Count > 0)
        {
            return ProblemDetailsExtensions.ValidationProblem(errors);
        }

        var jobs = VisibleJobs(db, user);
        if (statusFilter is { } wantedStatus)
        {
            jobs = jobs.Where(job => job.Status == wantedStatus);
        }
        if (channelFilter is { } wantedChannel)
        {
            jobs = jobs.Where(job => job.Channel == wantedChannel);
        }
        if (type is not null)
        {
            jobs = jobs.Where(job => db.Notifications.Any(notification => notification.Id == job.NotificationId && notification.Type == type));
        }
        if (list.FromUtc is { } start)
        {
            jobs = jobs.Where(job => job.CreatedAt >= start);
        }
        if (list.ToUtc is { } end)
        {
            jobs = jobs.Where(job => job.CreatedAt <= end);
        }

        var total = await jobs.CountAsync(cancellationToken);
        // The id breaks ties, so pages neither repeat nor skip jobs created in the same instant.
        var sorted = order switch
        {
            "created_at" => jobs.OrderBy(job => job.CreatedAt).ThenBy(job => job.Id),
            "scheduled_for" => jobs.OrderBy(job => job.ScheduledFor).ThenBy(job => job.Id),
            "-scheduled_for" => jobs.OrderByDescending(job => job.ScheduledFor).ThenByDescending(job => job.Id),
            _ => jobs.OrderByDescending(job => job.CreatedAt).ThenByDescending(job => job.Id),
        };
        var page = await sorted.Skip(list.Offset).Take(list.Limit).AsNoTracking().ToListAsync(cancellationToken);
        return TypedResults.Ok(new JobPage([.. page.Select(ToSummary)], total, list.Limit, list.Offset));
    }

    /// <summary>
    /// Counts, rates and failures cover jobs created in the last <paramref name="hours"/> hours; the overdue count
    /// covers every waiting job, however old, since those are the ones an operator must look at.
    /// </summary>
    internal static async Task<Results<Ok<JobMetrics>, ValidationProblem>> GetMetrics(
        ClaimsPrincipal user,
        NotificationsDbContext db,
        TimeProvider timeProvider,
        CancellationToken cancellationToken,
        int? hours = null)
    {
        var window = hours ?? DefaultHours;
        if (window is < 1 or > MaximumHours)
        {
            return ProblemDetailsExtensions.ValidationProblem(
                new Dictionary<string, string[]> { ["hours"] = [$"Must be between 1 and {MaximumHours}."] });
        }

        var now = timeProvider.GetUtcNow();
        var since = now.AddHours(-window);
        var recent = VisibleJobs(db, user).Where(job => job.CreatedAt >= since);

        var counts = await recent
            .GroupBy(job => new { job.Channel, job.Status })
            .Select(group => new { group.Key.Channel, group.Key.Status, Count = group.Count() })
            .ToListAsync(cancellationToken);

        var averageProcessingTimeMs = await recent
            .Where(job => job.Status == DeliveryJobStatus.Sent && job.ProcessedAt != null)
            .Select(job => (double?)(job.ProcessedAt!.Value - job.CreatedAt).TotalMilliseconds)
            .AverageAsync(cancellationToken);

        var overdueBefore = now - OverdueThreshold;
        var overdue = await VisibleJobs(db, user)
            .CountAsync(job => WaitingStatuses.Contains(job.Status) && job.ScheduledFor < overdueBefore, cancellationToken);

        var failures = await recent
            .Where(job => job.Status == DeliveryJobStatus.Failed)
            .OrderByDescending(job => job.UpdatedAt).ThenByDescending(job => job.Id)
            .Take(RecentFailureCount)
            .Select(job => new { job.Id, job.Channel, job.LastError, job.UpdatedAt })
            .ToListAsync(cancellationToken);

        var byStatus = CountByStatus(counts.Select(count => (count.Status, count.Count)));
        var sent = byStatus[SnakeCaseEnum<DeliveryJobStatus>.ToName(DeliveryJobStatus.Sent)];
        var failed = byStatus[SnakeCaseEnum<DeliveryJobStatus>.ToName(DeliveryJobStatus.Failed)];
        var byChannel = counts
            .GroupBy(count => count.Channel)
            .OrderBy(group => group.Key)
            .Select(group => new ChannelMetrics(
                SnakeCaseEnum<DeliveryChannel>.ToName(group.Key),
                group.Sum(count => count.Count),
                CountByStatus(group.Select(count => (count.Status, count.Count)))))
            .ToList();

        return TypedResults.Ok(new JobMetrics(
            window,
            since,
            now,
            counts.Sum(count => count.Count),
            byStatus,
            sent + failed == 0 ? null : (double)sent / (sent + failed),
            averageProcessingTimeMs,
            byChannel,
            overdue,
            [.. failures.Select(failure => new JobFailure(
                failure.Id, SnakeCaseEnum<DeliveryChannel>.ToName(failure.Channel), failure.LastError, failure.UpdatedAt))]));
    }

    /// <summary>Every job for an admin; otherwise the caller's own, through the (user_id, created_at) index.</summary>
    private static IQueryable<DeliveryJob> VisibleJobs(NotificationsDbContext db, ClaimsPrincipal user)
    {
        if (user.IsAdmin())
        {
            return db.DeliveryJobs;
        }
        var userId = user.GetUserId();
        return db.DeliveryJobs.Where(job => job.UserId == userId);
    }

    /// <summary>Every status, zero when absent, so clients need not guess which keys exist.</summary>
    private static Dictionary<string, int> CountByStatus(IEnumerable<(DeliveryJobStatus Status, int Count)> counts)
    {
        var byStatus = Enum.GetValues<DeliveryJobStatus>().ToDictionary(SnakeCaseEnum<DeliveryJobStatus>.ToName, _ => 0, StringComparer.Ordinal);
        foreach (var (status, count) in counts)
        {
            byStatus[SnakeCaseEnum<DeliveryJobStatus>.ToName(status)] += count;
        }
        return byStatus;
    }

    internal static TEnum? ParseEnum<TEnum>(string field, string? value, Dictionary<string, string[]> errors) where TEnum : struct, Enum
    {
        if (value is null)
        {
            return null;
        }
        if (SnakeCaseEnum<TEnum>.AllNames.Contains(value, StringComparer.Ordinal))
        {
            return SnakeCaseEnum<TEnum>.FromName(value);
        }
        errors[field] = [$"Must be one of: {string.Join(", ", SnakeCaseEnum<TEnum>.AllNames)}."];
        return null;
    }

    private static ProblemHttpResult JobNotFound(Guid id) =>
        TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "Job not found.", detail: $"There is no job {id}.");

    internal static JobSummary ToSummary(DeliveryJob job) => new(
        job.Id,
        SnakeCaseEnum<DeliveryJobKind>.ToName(job.Kind),
        job.NotificationId,
        job.UserId,
        SnakeCaseEnum<DeliveryChannel>.ToName(job.Channel),
        SnakeCaseEnum<DeliveryJobStatus>.ToName(job.Status),
        SnakeCaseEnum<NotificationPriority>.ToName(job.Priority),
        job.Attempts,
        job.ScheduledFor,
        job.ProcessedAt,
        job.LastError,
        job.CreatedAt,
        job.UpdatedAt);
}
