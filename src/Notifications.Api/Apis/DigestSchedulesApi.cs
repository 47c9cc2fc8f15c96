using System.Globalization;
using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Notifications.Api.Apis.DigestSchedules;
using Notifications.Api.Problems;
using Notifications.Api.RateLimiting;
using Notifications.Api.Security;
using Notifications.Domain.Digests;
using Notifications.Domain.Model;
using Notifications.Domain.Persistence;

namespace Notifications.Api.Apis;

/// <summary>
/// <c>/api/digest-schedules</c>: the caller's digest schedules. A user sees and changes only their own (anyone else's
/// id answers 404, like an unknown one). <c>next_due_at</c> is computed on every write from the injected clock by
/// <see cref="DigestCalendar"/>, which keeps the wall-clock time across daylight-saving changes; the scheduler
/// advances it after each run.
/// </summary>
public static class DigestSchedulesApi
{
    public const string Route = "/api/digest-schedules";
    public const int MaximumSchedulesPerUser = 20;
    public const int MaximumIncludedCategories = 100;
    public const int MaximumCategoryLength = 100;

    public static IEndpointRouteBuilder MapDigestSchedulesApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup(Route)
            .WithTags("Digest schedules")
            .RequireAuthorization(Policies.User)
            .RequireUserRateLimit();

        api.MapGet("", ListSchedules).WithName("ListDigestSchedules").WithSummary("The caller's digest schedules");
        api.MapGet("/{id:guid}", GetSchedule).WithName("GetDigestSchedule").WithSummary("One digest schedule");
        api.MapPost("", CreateSchedule).WithName("CreateDigestSchedule").WithSummary("Create a digest schedule");
        api.MapPut("/{id:guid}", ReplaceSchedule).WithName("ReplaceDigestSchedule").WithSummary("Replace a digest schedule");
        api.MapDelete("/{id:guid}", DeleteSchedule).WithName("DeleteDigestSchedule").WithSummary("Delete a digest schedule");
        return app;
    }

    internal static async Task<Results<Ok<IReadOnlyList<DigestScheduleDetails>>, ProblemHttpResult>> ListSchedules(
        ClaimsPrincipal user, NotificationsDbContext db, CancellationToken cancellationToken)
    {
        var userId = user.GetUserId();
        var schedules = await OwnSchedules(db, userId).AsNoTracking()
            .OrderBy(schedule => schedule.CreatedAt).ThenBy(schedule => schedule.Id)
            .ToListAsync(cancellationToken);
        if (schedules.Count == 0 && !await RegisteredUsers.ExistsAsync(db, userId, cancellationToken))
        {
            return RegisteredUsers.NotRegistered(userId);
        }
        return TypedResults.Ok<IReadOnlyList<DigestScheduleDetails>>([.. schedules.Select(ToDetails)]);
    }

    internal static async Task<Results<Ok<DigestScheduleDetails>, ProblemHttpResult>> GetSchedule(
        Guid id, ClaimsPrincipal user, NotificationsDbContext db, CancellationToken cancellationToken)
    {
        var schedule = await OwnSchedules(db, user.GetUserId()).AsNoTracking().FirstOrDefaultAsync(found => found.Id == id, cancellationToken);
        return schedule is null ? ScheduleNotFound(id) : TypedResults.Ok(ToDetails(schedule));
    }

    internal static async Task<Results<Created<DigestScheduleDetails>, ValidationProblem, ProblemHttpResult>> CreateSchedule(
        DigestScheduleRequest request, ClaimsPrincipal user, NotificationsDbContext db, TimeProvider timeProvider, CancellationToken cancellationToken)
    {
        var (timing, errors) = Validate(request);
        if (!timing.IsValid || errors.Count > 0)
        {
            return ProblemDetailsExtensions.ValidationProblem(errors);
        }
        var userId = user.GetUserId();
        if (!await RegisteredUsers.ExistsAsync(db, userId, cancellationToken))
        {
            return RegisteredUsers.NotRegistered(userId);
        }
        if (await OwnSchedules(db, userId).CountAsync(cancellationToken) >= MaximumSchedulesPerUser)
        {
            return TypedResults.Problem(
                statusCode: StatusCodes.Status409Conflict,
                title: "Too many digest schedules.",
                detail: $"A user can have at most {MaximumSchedulesPerUser} digest schedules; delete or change one instead.");
        }

        var now = timeProvider.GetDatabaseNow();
        var schedule = new DigestSchedule
        {
            UserId = userId,
            Frequency = timing.Cadence.Frequency,
            DeliveryTime = timing.Cadence.DeliveryTime,
            TimeZone = timing.Cadence.TimeZoneId,
            MaxItems = timing.MaxItems,
            NextDueAt = DigestCalendar.NextDue(timing.Cadence, now),
            CreatedAt = now,
            UpdatedAt = now,
        };
        Write(schedule, timing, request, now);
        db.DigestSchedules.Add(schedule);
        await db.SaveChangesAsync(cancellationToken);
        return TypedResults.Created($"{Route}/{schedule.Id}", ToDetails(schedule));
    }

    internal static async Task<Results<Ok<DigestScheduleDetails>, ValidationProblem, ProblemHttpResult>> ReplaceSchedule(
        Guid id, DigestScheduleRequest request, ClaimsPrincipal user, NotificationsDbContext db, TimeProvider timeProvider,
        CancellationToken cancellationToken)
    {
        var (timing, errors) = Validate(request);
        if (!timing.IsValid || errors.Count > 0)
        {
            return ProblemDetailsExtensions.ValidationProblem(errors);
        }
        var schedule = await OwnSchedules(db, user.GetUserId()).FirstOrDefaultAsync(found => found.Id == id, cancellationToken);
        if (schedule is null)
        {
            return ScheduleNotFound(id);
        }

        Write(schedule, timing, request, timeProvider.GetDatabaseNow());
        await db.SaveChangesAsync(cancellationToken);
        return TypedResults.Ok(ToDetails(schedule));
    }

    internal static async Task<Results<NoContent, ProblemHttpResult>> DeleteSchedule(
        Guid id, ClaimsPrincipal user, NotificationsDbContext db, CancellationToken cancellationToken)
    {
        var deleted = await OwnSchedules(db, user.GetUserId()).Where(schedule => schedule.Id == id).ExecuteDeleteAsync(cancellationToken);
        return deleted == 0 ? ScheduleNotFound(id) : TypedResults.NoContent();
    }

    /// <summary>The timing fields by <see cref="DigestScheduleValidator"/>, the categories here; every error by field.</summary>
    private static (DigestScheduleValidationResult Timing, Dictionary<string, string[]> Errors) Validate(DigestScheduleRequest request)
    {
        var timing = DigestScheduleValidator.Validate(new DigestScheduleInput(
            request.Frequency, request.DeliveryTime, request.DeliveryDay, request.TimeZone, request.MaxItems));
        var errors = timing.ErrorsByField();
        var categories = request.IncludedCategories ?? [];
        if (categories.Count > MaximumIncludedCategories)
        {
            errors["includedCategories"] = [$"At most {MaximumIncludedCategories} categories are allowed (got {categories.Count})."];
            return (timing, errors);
        }
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < categories.Count; i++)
        {
            var category = categories[i];
            if (string.IsNullOrWhiteSpace(category) || category.Length > MaximumCategoryLength || category.Any(char.IsControl))
            {
                errors[$"includedCategories[{i}]"] = [$"Must be a category name of 1 to {MaximumCategoryLength} characters, without control characters."];
            }
            else if (!seen.Add(category))
            {
                errors[$"includedCategories[{i}]"] = [$"'{category}' is listed twice."];
            }
        }
        return (timing, errors);
    }

    /// <summary>
    /// Sets every field a request controls. A changed cadence starts over from now: the next delivery is the first
    /// one the new settings give after this write.
    /// </summary>
    private static void Write(DigestSchedule schedule, DigestScheduleValidationResult timing, DigestScheduleRequest request, DateTimeOffset now)
    {
        var cadence = timing.Cadence!;
        schedule.Frequency = cadence.Frequency;
        schedule.DeliveryTime = cadence.DeliveryTime;
        schedule.DeliveryDay = (short?)cadence.DeliveryDay;
        schedule.TimeZone = cadence.TimeZoneId;
        schedule.MaxItems = timing.MaxItems;
        schedule.IncludedCategories = [.. request.IncludedCategories?.Select(category => category!) ?? []];
        schedule.Active = request.Active ?? true;
        schedule.NextDueAt = DigestCalendar.NextDue(cadence, now);
        schedule.UpdatedAt = now;
    }

    private static IQueryable<DigestSchedule> OwnSchedules(NotificationsDbContext db, string userId) =>
        db.DigestSchedules.Where(schedule => schedule.UserId == userId);

    private static ProblemHttpResult ScheduleNotFound(Guid id) =>
        TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "Digest schedule not found.", detail: $"There is no digest schedule {id}.");

    private static DigestScheduleDetails ToDetails(DigestSchedule schedule) => new(
        schedule.Id,
        SnakeCaseEnum<DigestFrequency>.ToName(schedule.Frequency),
        schedule.DeliveryTime.ToString(schedule.DeliveryTime.Second == 0 ? "HH:mm" : "HH:mm:ss", CultureInfo.InvariantCulture),
        schedule.DeliveryDay,
        schedule.TimeZone,
        schedule.MaxItems,
        schedule.IncludedCategories,
        schedule.Active,
        schedule.LastSentAt,
        schedule.NextDueAt,
        schedule.CreatedAt,
        schedule.UpdatedAt);
}
