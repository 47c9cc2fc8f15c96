using System.Net;
using System.Text.Json;
using Notifications.Domain.Model;

namespace Notifications.IntegrationTests.Api;

/// <summary>Seeds users and notifications straight through the EF context, with fresh ids per call, and reads JSON answers.</summary>
internal sealed class ApiTestData(string databaseConnectionString, DateTimeOffset now)
{
    private static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    /// <summary>Postgres keeps microseconds; whole milliseconds round-trip exactly.</summary>
    public static DateTimeOffset WholeMillisecondsNow()
    {
        var ticks = DateTimeOffset.UtcNow.UtcTicks;
        return new DateTimeOffset(ticks - ticks % TimeSpan.TicksPerMillisecond, TimeSpan.Zero);
    }

    public async Task<string> SeedUserAsync(string prefix = "user")
    {
        var userId = $"{prefix}-{Guid.NewGuid():N}";
        await using var db = TestDatabase.CreateContext(databaseConnectionString);
        db.Users.Add(new User { Id = userId, Email = $"{userId}@example.test", CreatedAt = now, UpdatedAt = now });
        await db.SaveChangesAsync(Cancellation);
        return userId;
    }

    public async Task<Notification> SeedNotificationAsync(
        string userId,
        DateTimeOffset createdAt,
        string category = "general",
        string type = "comment.created",
        DateTimeOffset? readAt = null,
        DateTimeOffset? archivedAt = null)
    {
        var notification = new Notification
        {
            UserId = userId,
            Type = type,
            Category = category,
            Priority = NotificationPriority.High,
            Title = $"{type} at {createdAt:O}",
            Body = "Body",
            Data = JsonDocument.Parse("""{"postId":42}"""),
            ReadAt = readAt,
            ArchivedAt = archivedAt,
            CreatedAt = createdAt,
        };
        await using var db = TestDatabase.CreateContext(databaseConnectionString);
        db.Notifications.Add(notification);
        await db.SaveChangesAsync(Cancellation);
        return notification;
    }

    public static async Task<JsonElement> GetJsonAsync(HttpClient client, string route)
    {
        var response = await client.GetAsync(route, Cancellation);
        return await ReadJsonAsync(response, HttpStatusCode.OK, route);
    }

    /// <summary>Asserts the status (showing the body when it differs) and parses the body.</summary>
    public static async Task<JsonElement> ReadJsonAsync(HttpResponseMessage response, HttpStatusCode expected, string? what = null)
    {
        var body = await response.Content.ReadAsStringAsync(Cancellation);
        Assert.True(response.StatusCode == expected, $"{what ?? response.RequestMessage?.RequestUri?.ToString()}: {(int)response.StatusCode} {body}");
        return JsonDocument.Parse(body).RootElement;
    }

    public static IReadOnlyList<string> ErrorFields(JsonElement problem) =>
        [.. problem.GetProperty("errors").EnumerateObject().Select(error => error.Name)];
}
