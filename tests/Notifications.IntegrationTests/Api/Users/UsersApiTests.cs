using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Notifications.Api.Problems;
using Notifications.IntegrationTests.Api.Security;
using static Notifications.IntegrationTests.Api.Security.ProblemAssertions;

namespace Notifications.IntegrationTests.Api.Users;

/// <summary><c>/api/users</c>: producers register, update, read and delete recipients.</summary>
[Collection(ApiSecurityCollection.Name)]
public sealed class UsersApiTests(TestServers servers) : IAsyncDisposable
{
    private static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    private readonly SecurityApiFactory _api = new(servers.Redis.ConnectionString, servers.DatabaseConnectionString);

    private HttpClient Producer => field ??= _api.CreateProducerClient();

    public ValueTask DisposeAsync() => _api.DisposeAsync();

    [Fact]
    public async Task Put_NewUser_Returns201WithLocation_ThenUpdatingReturns200AndKeepsTheUsersOwnSwitches()
    {
        var userId = $"user-{Guid.NewGuid():N}";

        var created = await Producer.PutAsJsonAsync($"/api/users/{userId}",
            new { email = "ada@example.test", displayName = "Ada", timeZone = "Europe/Paris" }, Cancellation);

        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        Assert.Equal($"/api/users/{userId}", created.Headers.Location?.OriginalString);
        var body = await ReadJsonAsync(created);
        Assert.Equal("Europe/Paris", body.GetProperty("timeZone").GetString());
        Assert.True(body.GetProperty("emailEnabled").GetBoolean());

        await using (var db = TestDatabase.CreateContext(servers.DatabaseConnectionString))
        {
            await db.Users.Where(user => user.Id == userId).ExecuteUpdateAsync(user => user.SetProperty(u => u.EmailEnabled, false), Cancellation);
        }
        var updated = await Producer.PutAsJsonAsync($"/api/users/{userId}", new { email = "ada@new.example.test" }, Cancellation);

        Assert.Equal(HttpStatusCode.OK, updated.StatusCode);
        var fetched = await ReadJsonAsync(await Producer.GetAsync($"/api/users/{userId}", Cancellation));
        Assert.Equal("ada@new.example.test", fetched.GetProperty("email").GetString());
        Assert.Equal("UTC", fetched.GetProperty("timeZone").GetString());
        Assert.False(fetched.GetProperty("emailEnabled").GetBoolean());
    }

    [Theory]
    [InlineData("""{"email":"not-an-address"}""", "email")]
    [InlineData("""{"email":"Ada <ada@example.test>"}""", "email")]
    [InlineData("""{"timeZone":"Mars/Olympus"}""", "timeZone")]
    [InlineData("""{"timeZone":"Eastern Standard Time"}""", "timeZone")]
    [InlineData("""{"displayName":"Ada\u0000"}""", "displayName")]
    public async Task Put_BadField_Returns400NamingIt(string json, string field)
    {
        var response = await Producer.PutAsync($"/api/users/user-{Guid.NewGuid():N}",
            new StringContent(json, System.Text.Encoding.UTF8, "application/json"), Cancellation);

        var problem = await AssertProblemAsync(response, HttpStatusCode.BadRequest, ProblemTypes.Validation);
        Assert.True(problem.GetProperty("errors").TryGetProperty(field, out _), problem.ToString());
    }

    [Fact]
    public async Task Delete_RemovesTheUserAndTheirNotifications_ThenGetAnswers404()
    {
        var userId = $"user-{Guid.NewGuid():N}";
        await Producer.PutAsJsonAsync($"/api/users/{userId}", new { email = "ada@example.test" }, Cancellation);
        var sent = await Producer.PostAsJsonAsync("/api/notifications", Sending.SendApiTests.Request(userId), Cancellation);
        Assert.Equal(HttpStatusCode.Accepted, sent.StatusCode);

        var deleted = await Producer.DeleteAsync($"/api/users/{userId}", Cancellation);

        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        await AssertProblemAsync(await Producer.GetAsync($"/api/users/{userId}", Cancellation), HttpStatusCode.NotFound, ProblemTypes.NotFound);
        await AssertProblemAsync(await Producer.DeleteAsync($"/api/users/{userId}", Cancellation), HttpStatusCode.NotFound, ProblemTypes.NotFound);
        await using var db = TestDatabase.CreateContext(servers.DatabaseConnectionString);
        Assert.Equal(0, await db.Notifications.CountAsync(notification => notification.UserId == userId, Cancellation));
    }

    [Fact]
    public async Task Routes_ForAUserWithoutProducerRights_Return403()
    {
        var user = _api.CreateClient(_api.IssueToken($"user-{Guid.NewGuid():N}"));

        await AssertProblemAsync(await user.PutAsJsonAsync("/api/users/someone", new { email = "a@example.test" }, Cancellation), HttpStatusCode.Forbidden, ProblemTypes.Forbidden);
        await AssertProblemAsync(await user.GetAsync("/api/users/someone", Cancellation), HttpStatusCode.Forbidden, ProblemTypes.Forbidden);
    }

    private static async Task<JsonElement> ReadJsonAsync(HttpResponseMessage response) =>
        JsonDocument.Parse(await response.Content.ReadAsStringAsync(Cancellation)).RootElement;
}
