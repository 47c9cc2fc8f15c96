using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Notifications.Domain.Persistence;

namespace Notifications.Api.Apis;

/// <summary>
/// Recipients are registered by producers (the <c>users</c> table); a caller's own settings (preferences, digest
/// schedules) hang off that row, so a caller without one gets a 404 that says so rather than an empty default.
/// </summary>
internal static class RegisteredUsers
{
    public static Task<bool> ExistsAsync(NotificationsDbContext db, string userId, CancellationToken cancellationToken) =>
        db.Users.AnyAsync(user => user.Id == userId, cancellationToken);

    public static ProblemHttpResult NotRegistered(string userId) => TypedResults.Problem(
        statusCode: StatusCodes.Status404NotFound,
        title: "User not registered.",
        detail: $"User '{userId}' is not registered: recipients are registered by the products that send them notifications.");
}
