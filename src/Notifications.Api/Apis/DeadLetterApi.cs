using System.Diagnostics;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Notifications.Api.Apis.DeadLetters;
using Notifications.Api.Outbox;
using Notifications.Api.Problems;
using Notifications.Api.RateLimiting;
using Notifications.Api.Security;
using Notifications.Domain.Model;
using Notifications.Domain.Persistence;
using Npgsql;

namespace Notifications.Api.Apis;

/// <summary>
/// <c>/api/admin/dlq</c>: the dead-letter queue for operators (role <c>admin</c>) — the jobs the worker gave up on, with
/// their attempt history; counts by error type, channel and day; and requeuing a job, which hands it to the workers
/// again through the outbox.
/// </summary>
public static class DeadLetterApi
{
    public const int DefaultLimit = 20;
    public const int MaximumLimit = 100;
    public const int DefaultDays = 7;
    public const int MaximumDays = 90;

    public static IEndpointRouteBuilder MapDeadLetterApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/admin/dlq")
            .WithTags("Dead letters")
            .RequireAuthorization(Policies.Admin)
            .RequireUserRateLimit();

        api.MapGet("", ListDeadLetters).WithName("ListDeadLetters").WithSummary("List dead letters, newest first, filtered and paged");
        api.MapGet("/stats", GetStats).WithName("GetDeadLetterStats").WithSummary("Dead letters by error type, channel and day");
        api.MapPost("/{id:guid}/requeue", Requeue).WithName("RequeueDeadLetter").WithSummary("Send a dead-lettered job again");
        return app;
    }

    /// <summary><paramref name="from"/> and <paramref name="to"/> bound <c>created_at</c>, both inclusive.</summary>
    internal static async Task<Results<Ok<DeadLetterPage>, ValidationProblem>> ListDeadLetters(
        NotificationsDbContext db,
        CancellationToken cancellationToken,
        string? errorType = null,
        string? channel = null,
        DateTimeOffset? from = null,
        DateTimeOffset? to = null,
        int? limit = null,
        int? offset = null)
    {
        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        var errorTypeFilter = JobsApi.ParseEnum<DeliveryErrorType>("errorType", errorType, errors);
        var channelFilter = JobsApi.ParseEnum<DeliveryChannel>("channel", channel, errors);
        var list = ListParameters.Parse(from, to, limit, offset, DefaultLimit, MaximumLimit, errors);
        if (errors.Count > 0)
        {
            return ProblemDetailsExtensions.ValidationProblem(errors);
        }

        var deadLetters = db.DeadLetters.AsQueryable();
        if (errorTypeFilter is { } wantedErrorType)
        {
            deadLetters = deadLetters.Where(deadLetter => deadLetter.ErrorType == wantedErrorType);
        }
        if (channelFilter is { } wantedChannel)
        {
            deadLetters = deadLetters.Where(deadLetter => deadLetter.Channel == wantedChannel);
        }
        if (list.FromUtc is { } start)
        {
            deadLetters = deadLetters.Where(deadLetter => deadLetter.CreatedAt >= start);
        }
        if (list.ToUtc is { } end)
        {
            deadLetters = deadLetters.Where(deadLetter => deadLetter.CreatedAt <= end);
        }

        var total = await deadLetters.CountAsync(cancellationToken);
        // The id breaks ties, so pages neither repeat nor skip dead letters created in the same instant.
        var page = await (
                from deadLetter in deadLetters
                join job in db.DeliveryJobs on deadLetter.JobId equals job.Id
                orderby deadLetter.CreatedAt descending, deadLetter.Id descending
                select new { DeadLetter = deadLetter, Job = job })
            .Skip(list.Offset).Take(list.Limit)
            .AsNoTracking()
            .ToListAsync(cancellationToken);
        var items = page.Select(row => ToItem(row.DeadLetter, row.Job)).ToList();
        return TypedResults.Ok(new DeadLetterPage(items, total, list.Limit, list.Offset));
    }

    // One scan of the window, grouped three ways at once; days are UTC days.
    private const string StatsSql = """
        SELECT error_type, channel, (created_at AT TIME ZONE 'UTC')::date AS day, count(*)::int
        FROM dead_letters
        WHERE created_at >= $1
        GROUP BY GROUPING SETS ((error_type), (channel), (day))
        """;

    /// <summary>Counts over the last <paramref name="days"/> UTC days, today included.</summary>
    internal static async Task<Results<Ok<DeadLetterStats>, ValidationProblem>> GetStats(
        NpgsqlDataSource dataSource,
        TimeProvider timeProvider,
        CancellationToken cancellationToken,
        int? days = null)
    {
        var window = days ?? DefaultDays;
        if (window is < 1 or > MaximumDays)
        {
            return ProblemDetailsExtensions.ValidationProblem(
                new Dictionary<string, string[]> { ["days"] = [$"Must be between 1 and {MaximumDays}."] });
        }

        var now = timeProvider.GetUtcNow();
        var firstDay = DateOnly.FromDateTime(now.UtcDateTime).AddDays(1 - window);
        var since = new DateTimeOffset(firstDay.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero);
        var byErrorType = Enum.GetValues<DeliveryErrorType>().ToDictionary(SnakeCaseEnum<DeliveryErrorType>.ToName, _ => 0, StringComparer.Ordinal);
        var byChannel = Enum.GetValues<DeliveryChannel>().ToDictionary(SnakeCaseEnum<DeliveryChannel>.ToName, _ => 0, StringComparer.Ordinal);
        var byDay = Enumerable.Range(0, window).ToDictionary(offset => firstDay.AddDays(offset), _ => 0);

        await using (var command = dataSource.CreateCommand(StatsSql))
        {
            command.Parameters.Add(new NpgsqlParameter { Value = since });
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                var count = reader.GetInt32(3);
                if (!reader.IsDBNull(0))
                {
                    byErrorType[reader.GetString(0)] = count;
                }
                else if (!reader.IsDBNull(1))
                {
                    byChannel[reader.GetString(1)] = count;
                }
                else if (reader.GetFieldValue<DateOnly>(2) is var day && byDay.ContainsKey(day))
                {
                    byDay[day] = count;
                }
            }
        }

        return TypedResults.Ok(new DeadLetterStats(
            window,
            since,
            now,
            byErrorType.Values.Sum(),
            byErrorType,
            byChannel,
            [.. byDay.OrderBy(pair => pair.Key).Select(pair => new DeadLetterDayCount(pair.Key, pair.Value))]));
    }

    /// <summary>
    /// In one transaction: the job goes from <c>failed</c> back to <c>queued</c> (attempts and recoveries reset, due now) with an outbox
    /// row, and the dead letter records the requeue. The job's UPDATE is conditional on <c>failed</c>, so of two requeues
    /// (or a requeue racing anything else) only one moves it: the other answers 409 naming the job's status, and nothing
    /// is enqueued twice. The dead letter stays, for the history; the worker updates it if the job fails again.
    /// </summary>
    internal static async Task<Results<Ok<DeadLetterItem>, ProblemHttpResult>> Requeue(
        Guid id, NotificationsDbContext db, OutboxWakeup outboxWakeup, TimeProvider timeProvider, CancellationToken cancellationToken)
    {
        var strategy = db.Database.CreateExecutionStrategy();
        return await strategy.ExecuteAsync(
            async token =>
            {
                db.ChangeTracker.Clear();
                await using var transaction = await db.Database.BeginTransactionAsync(token);
                var deadLetter = await db.DeadLetters.FirstOrDefaultAsync(deadLetter => deadLetter.Id == id, token);
                if (deadLetter is null)
                {
                    return (Results<Ok<DeadLetterItem>, ProblemHttpResult>)TypedResults.Problem(
                        statusCode: StatusCodes.Status404NotFound, title: "Dead letter not found.", detail: $"There is no dead letter {id}.");
                }

                var now = timeProvider.GetUtcNow();
                var requeued = await db.DeliveryJobs
                    .Where(job => job.Id == deadLetter.JobId && job.Status == DeliveryJobStatus.Failed)
                    .ExecuteUpdateAsync(
                        setters => setters
                            .SetProperty(job => job.Status, DeliveryJobStatus.Queued)
                            .SetProperty(job => job.Attempts, 0)
                            .SetProperty(job => job.RecoveryCount, 0)
                            .SetProperty(job => job.ScheduledFor, now)
                            .SetProperty(job => job.UpdatedAt, now),
                        token);
                var job = await db.DeliveryJobs.AsNoTracking().SingleAsync(job => job.Id == deadLetter.JobId, token);
                if (requeued == 0)
                {
                    var status = SnakeCaseEnum<DeliveryJobStatus>.ToName(job.Status);
                    return TypedResults.Problem(
                        statusCode: StatusCodes.Status409Conflict,
                        title: "The job cannot be requeued.",
                        detail: $"The job is {status}; only failed jobs can be requeued.",
                        extensions: new Dictionary<string, object?> { ["jobStatus"] = status });
                }

                // The requeue request's trace carries on into the worker's attempt.
                var activity = Activity.Current;
                db.OutboxMessages.Add(OutboxMessage.For(job, activity?.Id, activity?.TraceStateString, now));
                deadLetter.RequeuedAt = now;
                deadLetter.RequeueCount++;
                deadLetter.UpdatedAt = now;
                await db.SaveChangesAsync(token);
                await transaction.CommitAsync(token);
                outboxWakeup.Signal();
                return TypedResults.Ok(ToItem(deadLetter, job));
            },
            cancellationToken);
    }

    private static DeadLetterItem ToItem(DeadLetter deadLetter, DeliveryJob job) => new(
        deadLetter.Id,
        deadLetter.JobId,
        SnakeCaseEnum<DeliveryChannel>.ToName(deadLetter.Channel),
        SnakeCaseEnum<DeliveryErrorType>.ToName(deadLetter.ErrorType),
        deadLetter.HttpStatusCode,
        deadLetter.ProviderResponse,
        deadLetter.ErrorMessage,
        deadLetter.AttemptHistory.RootElement,
        deadLetter.CreatedAt,
        deadLetter.UpdatedAt,
        deadLetter.RequeuedAt,
        deadLetter.RequeueCount,
        JobsApi.ToSummary(job));
}
