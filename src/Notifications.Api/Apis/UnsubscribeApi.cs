using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Notifications.Api.Problems;
using Notifications.Domain.Persistence;
using Notifications.Domain.Unsubscribe;

namespace Notifications.Api.Apis;

/// <summary>
/// <c>/api/unsubscribe?token=…</c>: the link every email carries (in its body and its <c>List-Unsubscribe</c> header).
/// Anonymous: the signed token is the credential. <c>GET</c> only shows a confirmation page with a button, because
/// mail scanners follow links; <c>POST</c> (the button, or a mail client's RFC 8058 one-click
/// <c>List-Unsubscribe=One-Click</c>) applies it: all email → the user's email switch off; a category → an email
/// preference for that category, disabled. Repeating it changes nothing more.
/// </summary>
public static class UnsubscribeApi
{
    public const string Route = "/api/unsubscribe";

    public static IEndpointRouteBuilder MapUnsubscribeApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup(Route)
            .WithTags("Unsubscribe")
            .AllowAnonymous();

        api.MapGet("", ShowConfirmation).WithName("ShowUnsubscribe").WithSummary("The confirmation page of an unsubscribe link");
        api.MapPost("", Unsubscribe).WithName("Unsubscribe").WithSummary("Apply an unsubscribe link (also RFC 8058 one-click)");
        return app;
    }

    internal static Results<ContentHttpResult, ValidationProblem> ShowConfirmation(string? token, UnsubscribeTokens tokens, HttpResponse response)
    {
        if (!tokens.TryVerify(token, out var request, out var error))
        {
            return InvalidToken(error);
        }
        var action = HtmlEncoder.Default.Encode($"{Route}?token={Uri.EscapeDataString(token!)}");
        return Page(response, "Unsubscribe", $"""
            <h1>Unsubscribe</h1>
            <p>Stop sending you {Describe(request)}?</p>
            <form method="post" action="{action}">
              <input type="hidden" name="List-Unsubscribe" value="One-Click">
              <button type="submit">Unsubscribe</button>
            </form>
            """);
    }

    internal static async Task<Results<ContentHttpResult, ValidationProblem>> Unsubscribe(
        string? token,
        UnsubscribeTokens tokens,
        NotificationsDbContext db,
        TimeProvider timeProvider,
        HttpResponse response,
        CancellationToken cancellationToken)
    {
        if (!tokens.TryVerify(token, out var request, out var error))
        {
            return InvalidToken(error);
        }
        var now = timeProvider.GetUtcNow();
        if (request.Category is not { } category)
        {
            await db.Users
                .Where(user => user.Id == request.UserId && user.EmailEnabled)
                .ExecuteUpdateAsync(setters => setters
                    .SetProperty(user => user.EmailEnabled, false)
                    .SetProperty(user => user.UpdatedAt, now), cancellationToken);
        }
        else
        {
            // One statement: a row for a user that no longer exists is never attempted, an existing rule keeps its
            // delivery mode, and a repeat leaves an already disabled rule untouched.
            await db.Database.ExecuteSqlInterpolatedAsync($"""
                INSERT INTO notification_preferences (user_id, scope, scope_key, channel, enabled, delivery_mode, updated_at)
                SELECT {request.UserId}, 'category', {category}, 'email', false, 'immediate', {now}
                WHERE EXISTS (SELECT 1 FROM users WHERE id = {request.UserId})
                ON CONFLICT (user_id, scope, scope_key, channel)
                DO UPDATE SET enabled = false, updated_at = EXCLUDED.updated_at
                WHERE notification_preferences.enabled
                """, cancellationToken);
        }
        return Page(response, "Unsubscribed", $"""
            <h1>You are unsubscribed</h1>
            <p>We will no longer send you {Describe(request)}.</p>
            """);
    }

    private static string Describe(UnsubscribeRequest request) =>
        request.Category is { } category ? $"emails about “{HtmlEncoder.Default.Encode(category)}”" : "any email";

    private static ValidationProblem InvalidToken(string error) =>
        ProblemDetailsExtensions.ValidationProblem(new Dictionary<string, string[]> { ["token"] = [error] }, error);

    private static ContentHttpResult Page(HttpResponse response, string title, string body)
    {
        // Personal and one-off: never cached, never indexed.
        response.Headers.CacheControl = "no-store";
        response.Headers["X-Robots-Tag"] = "noindex";
        return TypedResults.Content($"""
            <!DOCTYPE html>
            <html lang="en">
            <head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>{title}</title></head>
            <body style="font-family:-apple-system,BlinkMacSystemFont,'Segoe UI',Roboto,Helvetica,Arial,sans-serif;max-width:32rem;margin:4rem auto;padding:0 1rem;color:#18181b;">
            {body}
            </body>
            </html>
            """, "text/html; charset=utf-8");
    }
}
