using System.Net.Mail;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Notifications.Api.Apis.Users;
using Notifications.Api.Problems;
using Notifications.Api.RateLimiting;
using Notifications.Api.Security;
using Notifications.Domain.Digests;
using Notifications.Domain.Model;
using Notifications.Domain.Persistence;
using Npgsql;
using NpgsqlTypes;

namespace Notifications.Api.Apis;

/// <summary>
/// <c>/api/users</c>: producers register the recipients they notify (a send to an unregistered user is refused), keep
/// their contact details current, and delete them (with everything the platform holds about them).
/// </summary>
public static class UsersApi
{
    public const int MaximumIdLength = 200;
    public const int MaximumEmailLength = 254;
    public const int MaximumDisplayNameLength = 200;
    public const string DefaultTimeZone = "UTC";

    public static IEndpointRouteBuilder MapUsersApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/users")
            .WithTags("Users")
            .RequireAuthorization(Policies.Producer)
            .RequireProducerRateLimit();

        api.MapPut("/{id}", UpsertUser).WithName("UpsertUser").WithSummary("Register a recipient or update their contact details");
        api.MapGet("/{id}", GetUser).WithName("GetUser").WithSummary("A registered recipient");
        api.MapDelete("/{id}", DeleteUser).WithName("DeleteUser").WithSummary("Delete a recipient and all their notifications, jobs and settings");
        return app;
    }

    /// <summary>
    /// An upsert in one statement, so two producers registering the same user at once both succeed. Answers 201 when
    /// the user is new, 200 when an existing one was updated.
    /// </summary>
    internal static async Task<Results<Created<UserResponse>, Ok<UserResponse>, ValidationProblem>> UpsertUser(
        string id, UpsertUserRequest request, NpgsqlDataSource dataSource, TimeProvider timeProvider, CancellationToken cancellationToken)
    {
        var errors = Validate(id, request);
        if (errors.Count > 0)
        {
            return ProblemDetailsExtensions.ValidationProblem(errors);
        }

        var now = timeProvider.GetUtcNow();
        // xmax = 0 only for a row this statement inserted.
        await using var command = dataSource.CreateCommand("""
            INSERT INTO users (id, email, display_name, time_zone, email_enabled, muted_until, created_at, updated_at)
            VALUES ($1, $2, $3, $4, true, NULL, $5, $5)
            ON CONFLICT (id) DO UPDATE SET
                email = excluded.email, display_name = excluded.display_name, time_zone = excluded.time_zone, updated_at = excluded.updated_at
            RETURNING email_enabled, muted_until, created_at, (xmax = 0)
            """);
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = id });
        command.Parameters.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Text, Value = (object?)request.Email ?? DBNull.Value });
        command.Parameters.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Text, Value = (object?)request.DisplayName ?? DBNull.Value });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = request.TimeZone ?? DefaultTimeZone });
        command.Parameters.Add(new NpgsqlParameter<DateTimeOffset> { TypedValue = now });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        await reader.ReadAsync(cancellationToken);
        var response = new UserResponse(
            id,
            request.Email,
            request.DisplayName,
            request.TimeZone ?? DefaultTimeZone,
            reader.GetBoolean(0),
            reader.IsDBNull(1) ? null : reader.GetFieldValue<DateTimeOffset>(1),
            reader.GetFieldValue<DateTimeOffset>(2),
            now);
        return reader.GetBoolean(3)
            ? TypedResults.Created($"/api/users/{Uri.EscapeDataString(id)}", response)
            : TypedResults.Ok(response);
    }

    internal static async Task<Results<Ok<UserResponse>, ProblemHttpResult>> GetUser(
        string id, NotificationsDbContext db, CancellationToken cancellationToken)
    {
        var user = await db.Users.AsNoTracking().FirstOrDefaultAsync(user => user.Id == id, cancellationToken);
        return user is null ? UserNotFound(id) : TypedResults.Ok(ToResponse(user));
    }

    internal static async Task<Results<NoContent, ProblemHttpResult>> DeleteUser(
        string id, NotificationsDbContext db, CancellationToken cancellationToken)
    {
        // Foreign keys cascade to notifications, jobs, logs, outbox rows, preferences and schedules.
        var deleted = await db.Users.Where(user => user.Id == id).ExecuteDeleteAsync(cancellationToken);
        return deleted == 0 ? UserNotFound(id) : TypedResults.NoContent();
    }

    internal static Dictionary<string, string[]> Validate(string id, UpsertUserRequest request)
    {
        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        if (string.IsNullOrWhiteSpace(id) || id.Length > MaximumIdLength || id.Any(char.IsControl))
        {
            errors["id"] = [$"The user id must be 1 to {MaximumIdLength} characters, without control characters."];
        }
        if (request.Email is { } email
            && (email.Length > MaximumEmailLength || !MailAddress.TryCreate(email, out var address) || address.Address != email))
        {
            errors["email"] = [$"Must be a plain email address (name@example.com), at most {MaximumEmailLength} characters."];
        }
        if (request.DisplayName is { } displayName && (displayName.Length > MaximumDisplayNameLength || displayName.Any(char.IsControl)))
        {
            errors["displayName"] = [$"Must be at most {MaximumDisplayNameLength} characters, without control characters."];
        }
        if (request.TimeZone is { } timeZone && !DigestScheduleValidator.TryFindTimeZone(timeZone, out _))
        {
            errors["timeZone"] = [DigestScheduleValidator.DescribeTimeZoneProblem(timeZone)];
        }
        return errors;
    }

    private static ProblemHttpResult UserNotFound(string id) =>
        TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "User not found.", detail: $"There is no registered user '{id}'.");

    private static UserResponse ToResponse(User user) =>
        new(user.Id, user.Email, user.DisplayName, user.TimeZone, user.EmailEnabled, user.MutedUntil, user.CreatedAt, user.UpdatedAt);
}
