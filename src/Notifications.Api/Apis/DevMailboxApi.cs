using System.Text.Json;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Notifications.Api.Problems;
using Notifications.Domain.Model;
using Notifications.Domain.Persistence;

namespace Notifications.Api.Apis;

/// <summary>
/// <c>/api/dev/mailbox</c>: the emails the worker delivered to the dev mailbox (real email off, the default), newest
/// first, so a delivered email can be seen without any email account. Mapped only in Development, like
/// <see cref="DevTokenApi"/>; in every other environment the route does not exist.
/// </summary>
public static class DevMailboxApi
{
    public const string Route = "/api/dev/mailbox";
    public const int DefaultLimit = 20;
    public const int MaximumLimit = 100;

    public static IEndpointRouteBuilder MapDevMailboxApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup(Route)
            .WithTags("Development")
            .AllowAnonymous();

        api.MapGet("", ListMessages).WithName("ListDevMailbox").WithSummary("Emails in the dev mailbox, newest first (Development only)");
        api.MapGet("/{id:guid}", GetMessage).WithName("GetDevMailboxMessage").WithSummary("One email in the dev mailbox; ?format=html shows its HTML (Development only)");
        return app;
    }

    internal static async Task<Results<Ok<DevMailboxPage>, ValidationProblem>> ListMessages(
        NotificationsDbContext db, CancellationToken cancellationToken, string? to = null, int? limit = null)
    {
        if (limit is < 1 or > MaximumLimit)
        {
            return ProblemDetailsExtensions.ValidationProblem(new Dictionary<string, string[]>
            {
                ["limit"] = [$"The limit must be between 1 and {MaximumLimit}."],
            });
        }
        var messages = db.DevMailboxMessages.AsNoTracking();
        if (!string.IsNullOrWhiteSpace(to))
        {
            messages = messages.Where(message => message.ToAddress == to);
        }
        var items = await messages
            .OrderByDescending(message => message.CreatedAt).ThenByDescending(message => message.Id)
            .Take(limit ?? DefaultLimit)
            .Select(message => new DevMailboxSummary(message.Id, message.FromAddress, message.ToAddress, message.Subject, message.CreatedAt))
            .ToListAsync(cancellationToken);
        return TypedResults.Ok(new DevMailboxPage(items));
    }

    internal static async Task<Results<Ok<DevMailboxMessageDetails>, ContentHttpResult, ProblemHttpResult, ValidationProblem>> GetMessage(
        Guid id, NotificationsDbContext db, HttpResponse response, CancellationToken cancellationToken, string? format = null)
    {
        if (format is not (null or "json" or "html"))
        {
            return ProblemDetailsExtensions.ValidationProblem(new Dictionary<string, string[]>
            {
                ["format"] = ["The format must be 'json' (the default) or 'html'."],
            });
        }
        var message = await db.DevMailboxMessages.AsNoTracking().FirstOrDefaultAsync(message => message.Id == id, cancellationToken);
        if (message is null)
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "Message not found.", detail: $"There is no message {id} in the dev mailbox.");
        }
        if (format == "html")
        {
            // The email's own HTML, shown as the mail client would: sandboxed, so nothing in it runs as the API's origin.
            response.Headers.ContentSecurityPolicy = "sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src * data:";
            return TypedResults.Content(message.Html, "text/html; charset=utf-8");
        }
        return TypedResults.Ok(ToDetails(message));
    }

    private static DevMailboxMessageDetails ToDetails(DevMailboxMessage message) => new(
        message.Id,
        message.IdempotencyKey,
        message.FromAddress,
        message.ToAddress,
        message.Subject,
        message.Text,
        message.Html,
        message.Headers.RootElement.Clone(),
        message.CreatedAt);
}

public sealed record DevMailboxPage(IReadOnlyList<DevMailboxSummary> Items);

public sealed record DevMailboxSummary(Guid Id, string From, string To, string Subject, DateTimeOffset CreatedAt);

/// <param name="IdempotencyKey">The delivery job's id.</param>
/// <param name="Headers">The extra headers the email carried (e.g. <c>List-Unsubscribe</c>).</param>
public sealed record DevMailboxMessageDetails(
    Guid Id,
    string IdempotencyKey,
    string From,
    string To,
    string Subject,
    string Text,
    string Html,
    JsonElement Headers,
    DateTimeOffset CreatedAt);
