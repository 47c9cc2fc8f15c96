using System.Text.Json;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Notifications.Api.Apis.CronJobs;
using Notifications.Api.Problems;
using Notifications.Api.RateLimiting;
using Notifications.Api.Security;
using Notifications.Domain.Model;
using Notifications.Domain.Persistence;
using Notifications.Domain.Scheduling;
using Quartz;

namespace Notifications.Api.Apis;

/// <summary>
/// <c>/api/admin/cron-jobs</c>, for operators: the scheduler's recent runs, per-job statistics, and running a job now.
/// The API never runs a job itself: a trigger goes into the scheduler service's clustered Quartz store, and a started
/// scheduler replica picks it up (within a couple of seconds) and records the run like any other.
/// </summary>
public static class CronJobsApi
{
    /// <summary>Runs listed per job.</summary>
    public const int RunsPerJob = 50;

    public const int DefaultStatsHours = 168;
    public const int MaximumStatsHours = 2160;

    public static IEndpointRouteBuilder MapCronJobsApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/admin/cron-jobs")
            .WithTags("Cron jobs")
            .RequireAuthorization(Policies.Admin)
            .RequireUserRateLimit();

        api.MapGet("", ListRuns).WithName("ListCronJobRuns").WithSummary("The latest runs of each scheduled job, filtered by job and status");
        api.MapGet("/stats", GetStats).WithName("GetCronJobStats").WithSummary("Per job: runs, success rate, average duration, items processed and failed");
        api.MapPost("/{name}/trigger", TriggerRun).WithName("TriggerCronJob").WithSummary("Run a scheduled job now, on a scheduler replica");
        return app;
    }

    /// <summary>Up to <see cref="RunsPerJob"/> runs of each job (or of <paramref name="job"/>), newest first.</summary>
    internal static async Task<Results<Ok<CronRunList>, ValidationProblem>> ListRuns(
        NotificationsDbContext db, CancellationToken cancellationToken, string? job = null, string? status = null)
    {
        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        if (job is not null && CronJobCatalog.Find(job) is null)
        {
            errors["job"] = [$"Must be one of: {string.Join(", ", CronJobCatalog.All.Select(known => known.Name))}."];
        }
        CronJobStatus? statusFilter = null;
        if (status is not null)
        {
            if (SnakeCaseEnum<CronJobStatus>.AllNames.Contains(status, StringComparer.Ordinal))
            {
                statusFilter = SnakeCaseEnum<CronJobStatus>.FromName(status);
            }
            else
            {
                errors["status"] = [$"Must be one of: {string.Join(", ", SnakeCaseEnum<CronJobStatus>.AllNames)}."];
            }
        }
        if (errors.Count > 0)
        {
            return ProblemDetailsExtensions.ValidationProblem(errors);
        }

        var runs = new List<CronJobExecution>();
        foreach (var name in job is null ? CronJobCatalog.All.Select(known => known.Name) : [job])
        {
            var ofJob = db.CronJobExecutions.AsNoTracking().Where(run => run.JobName == name);
            if (statusFilter is { } wanted)
            {
                ofJob = ofJob.Where(run => run.Status == wanted);
            }
            // Served by ix_cron_job_executions_job_name_started_at.
            runs.AddRange(await ofJob.OrderByDescending(run => run.StartedAt).ThenByDescending(run => run.Id)
                .Take(RunsPerJob).ToListAsync(cancellationToken));
        }
        return TypedResults.Ok(new CronRunList(
            [.. runs.OrderByDescending(run => run.StartedAt).ThenByDescending(run => run.Id).Select(ToRun)], RunsPerJob));
    }

    /// <summary>Every job of the catalogue, over its runs started in the last <paramref name="hours"/> hours (default a week).</summary>
    internal static async Task<Results<Ok<CronJobStatsReport>, ValidationProblem>> GetStats(
        NotificationsDbContext db, TimeProvider timeProvider, CancellationToken cancellationToken, int? hours = null)
    {
        var window = hours ?? DefaultStatsHours;
        if (window is < 1 or > MaximumStatsHours)
        {
            return ProblemDetailsExtensions.ValidationProblem(
                new Dictionary<string, string[]> { ["hours"] = [$"Must be between 1 and {MaximumStatsHours}."] });
        }

        var since = timeProvider.GetUtcNow().AddHours(-window);
        var rows = await db.Database.SqlQuery<StatsRow>($"""
            SELECT job_name AS "JobName",
                   count(*)::int AS "Executions",
                   count(*) FILTER (WHERE status = 'running')::int AS "Running",
                   count(*) FILTER (WHERE status = 'completed')::int AS "Completed",
                   count(*) FILTER (WHERE status = 'failed')::int AS "Failed",
                   avg(duration_ms)::float8 AS "AverageDurationMs",
                   coalesce(sum((results ->> 'found')::bigint), 0)::bigint AS "ItemsFound",
                   coalesce(sum((results ->> 'completed')::bigint), 0)::bigint AS "ItemsProcessed",
                   coalesce(sum((results ->> 'failed')::bigint), 0)::bigint AS "ItemsFailed",
                   coalesce(sum((results ->> 'skipped')::bigint), 0)::bigint AS "ItemsSkipped",
                   coalesce(sum((results ->> 'errors')::bigint), 0)::bigint AS "ProcessingErrors",
                   max(started_at) AS "LastStartedAt",
                   (array_agg(status ORDER BY started_at DESC))[1] AS "LastStatus"
            FROM cron_job_executions
            WHERE started_at >= {since}
            GROUP BY job_name
            """).ToDictionaryAsync(row => row.JobName, StringComparer.Ordinal, cancellationToken);

        var jobs = CronJobCatalog.All.Select(job => rows.TryGetValue(job.Name, out var row)
            ? new CronJobStats(job.Name, job.Description, row.Executions, row.Running, row.Completed, row.Failed,
                row.Completed + row.Failed == 0 ? null : (double)row.Completed / (row.Completed + row.Failed),
                row.AverageDurationMs, row.ItemsFound, row.ItemsProcessed, row.ItemsFailed, row.ItemsSkipped, row.ProcessingErrors,
                row.LastStartedAt, row.LastStatus)
            : new CronJobStats(job.Name, job.Description, 0, 0, 0, 0, null, null, 0, 0, 0, 0, 0, null, null));
        return TypedResults.Ok(new CronJobStatsReport(window, since, [.. jobs]));
    }

    /// <summary>
    /// Writes a one-off trigger for the job into Quartz's store; 404 for a job not in the catalogue, 409 while a run of it
    /// executes on any replica (what Quartz's store says is executing: a <c>running</c> row with no executing firing
    /// belongs to a replica that died, and the job's next run marks it failed), 503 before any scheduler replica has
    /// stored the jobs.
    /// </summary>
    internal static async Task<Results<Accepted<CronJobTriggered>, ProblemHttpResult>> TriggerRun(
        string name,
        ISchedulerFactory schedulers,
        NotificationsDbContext db,
        TimeProvider timeProvider,
        CancellationToken cancellationToken)
    {
        if (CronJobCatalog.Find(name) is null)
        {
            return TypedResults.Problem(
                statusCode: StatusCodes.Status404NotFound,
                title: "Cron job not found.",
                detail: $"There is no cron job '{name}'; the jobs are {string.Join(", ", CronJobCatalog.All.Select(job => job.Name))}.");
        }

        var scheduler = await schedulers.GetScheduler(cancellationToken);
        var key = CronJobStore.JobKey(name);
        var executing = await scheduler.QueryFireInstances(new FireInstanceQuery { Job = key }, cancellationToken);
        if (executing.Items is [var firing, ..])
        {
            var run = await db.CronJobExecutions.AsNoTracking()
                .Where(execution => execution.JobName == name && execution.Status == CronJobStatus.Running)
                .OrderByDescending(execution => execution.StartedAt)
                .FirstOrDefaultAsync(cancellationToken);
            return TypedResults.Problem(
                statusCode: StatusCodes.Status409Conflict,
                title: "The cron job is running.",
                detail: $"A run of {name} has been executing since {firing.FireTimeUtc:O} on scheduler instance {firing.SchedulerInstanceId}; trigger it again once it has finished.",
                extensions: new Dictionary<string, object?> { ["executionId"] = run?.Id, ["runningSince"] = firing.FireTimeUtc });
        }

        var requestedAt = timeProvider.GetUtcNow();
        try
        {
            await scheduler.TriggerJob(key, cancellationToken);
        }
        catch (JobPersistenceException)
        {
            return TypedResults.Problem(
                statusCode: StatusCodes.Status503ServiceUnavailable,
                type: ProblemTypes.ServiceUnavailable,
                title: "The scheduler has not registered its jobs.",
                detail: $"No scheduler replica has stored the job '{name}' yet; start the scheduler service and try again.");
        }
        return TypedResults.Accepted($"/api/admin/cron-jobs?job={Uri.EscapeDataString(name)}", new CronJobTriggered(name, requestedAt));
    }

    private static CronRun ToRun(CronJobExecution run) => new(
        run.Id,
        run.JobName,
        SnakeCaseEnum<CronJobStatus>.ToName(run.Status),
        run.StartedAt,
        run.CompletedAt,
        run.DurationMs,
        run.Results is { } results ? ToResults(results.RootElement) : null,
        run.ErrorMessage);

    private static CronRunResults ToResults(JsonElement results) =>
        new(Count(results, "found"), Count(results, "completed"), Count(results, "failed"), Count(results, "skipped"), Count(results, "errors"));

    private static int Count(JsonElement results, string name) =>
        results.ValueKind == JsonValueKind.Object && results.TryGetProperty(name, out var value) && value.TryGetInt32(out var count) ? count : 0;

    /// <summary>One job's aggregate, as the stats query returns it.</summary>
    internal sealed class StatsRow
    {
        public required string JobName { get; init; }
        public int Executions { get; init; }
        public int Running { get; init; }
        public int Completed { get; init; }
        public int Failed { get; init; }
        public double? AverageDurationMs { get; init; }
        public long ItemsFound { get; init; }
        public long ItemsProcessed { get; init; }
        public long ItemsFailed { get; init; }
        public long ItemsSkipped { get; init; }
        public long ProcessingErrors { get; init; }
        public DateTimeOffset? LastStartedAt { get; init; }
        public string? LastStatus { get; init; }
    }
}
