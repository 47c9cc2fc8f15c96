using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Notifications.Api.Apis;
using Notifications.Api.Problems;
using Notifications.Domain.Model;
using Notifications.IntegrationTests.Api.Security;
using static Notifications.IntegrationTests.Api.Security.ProblemAssertions;

namespace Notifications.IntegrationTests.Api.DevMailbox;

/// <summary><c>/api/dev/mailbox</c>: the dev mailbox's emails, newest first, in Development only.</summary>
[Collection(ApiSecurityCollection.Name)]
public sealed class DevMailboxApiTests(TestServers servers) : IAsyncDisposable
{
    private static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    private readonly SecurityApiFactory _api = new(servers.Redis.ConnectionString, servers.DatabaseConnectionString);

    public ValueTask DisposeAsync() => _api.DisposeAsync();

    [Fact]
    public async Task List_ForARecipient_ReturnsTheirMessagesNewestFirstUpToTheLimit()
    {
        var to = $"{Guid.NewGuid():N}@example.test";
        var now = DateTimeOffset.UtcNow;
        var oldest = await SeedAsync(to, "first", now.AddMinutes(-3));
        var middle = await SeedAsync(to, "second", now.AddMinutes(-2));
        var newest = await SeedAsync(to, "third", now.AddMinutes(-1));
        await SeedAsync($"other-{to}", "someone else's", now);

        var all = await GetJsonAsync($"{DevMailboxApi.Route}?to={Uri.EscapeDataString(to)}");
        var limited = await GetJsonAsync($"{DevMailboxApi.Route}?to={Uri.EscapeDataString(to)}&limit=2");

        Assert.Equal([newest.Id, middle.Id, oldest.Id], Ids(all));
        Assert.Equal([newest.Id, middle.Id], Ids(limited));
        var item = all.GetProperty("items")[0];
        Assert.Equal("third", item.GetProperty("subject").GetString());
        Assert.Equal(to, item.GetProperty("to").GetString());
        Assert.Equal("Notifications <notifications@localhost>", item.GetProperty("from").GetString());
    }

    [Fact]
    public async Task Get_ReturnsTheMessageWithItsBodiesAndHeaders_AndItsHtmlOnRequest()
    {
        var message = await SeedAsync($"{Guid.NewGuid():N}@example.test", "Hello", DateTimeOffset.UtcNow);

        var json = await GetJsonAsync($"{DevMailboxApi.Route}/{message.Id}");
        var html = await _api.CreateClient().GetAsync($"{DevMailboxApi.Route}/{message.Id}?format=html", Cancellation);

        Assert.Equal(message.IdempotencyKey, json.GetProperty("idempotencyKey").GetString());
        Assert.Equal("Plain Hello", json.GetProperty("text").GetString());
        Assert.Equal("<https://notifications.test/api/unsubscribe?token=t>", json.GetProperty("headers").GetProperty("List-Unsubscribe").GetString());
        Assert.Equal(HttpStatusCode.OK, html.StatusCode);
        Assert.Equal("text/html", html.Content.Headers.ContentType?.MediaType);
        Assert.StartsWith("sandbox", html.Headers.GetValues("Content-Security-Policy").Single());
        Assert.Equal("<p>Hello</p>", await html.Content.ReadAsStringAsync(Cancellation));
    }

    [Fact]
    public async Task Get_UnknownId_Returns404Problem()
    {
        var response = await _api.CreateClient().GetAsync($"{DevMailboxApi.Route}/{Guid.NewGuid()}", Cancellation);

        await AssertProblemAsync(response, HttpStatusCode.NotFound, ProblemTypes.NotFound);
    }

    [Theory]
    [InlineData("?limit=0", "limit")]
    [InlineData("?limit=101", "limit")]
    public async Task List_BadLimit_Returns400ProblemNamingIt(string query, string field)
    {
        var response = await _api.CreateClient().GetAsync($"{DevMailboxApi.Route}{query}", Cancellation);

        var problem = await AssertProblemAsync(response, HttpStatusCode.BadRequest, ProblemTypes.Validation);
        Assert.True(problem.GetProperty("errors").TryGetProperty(field, out _));
    }

    [Fact]
    public async Task Get_BadFormat_Returns400ProblemNamingIt()
    {
        var response = await _api.CreateClient().GetAsync($"{DevMailboxApi.Route}/{Guid.NewGuid()}?format=pdf", Cancellation);

        var problem = await AssertProblemAsync(response, HttpStatusCode.BadRequest, ProblemTypes.Validation);
        Assert.True(problem.GetProperty("errors").TryGetProperty("format", out _));
    }

    [Fact]
    public async Task Mailbox_InProduction_DoesNotExist()
    {
        await using var api = new SecurityApiFactory(servers.Redis.ConnectionString, servers.DatabaseConnectionString, "Production",
            SecurityApiFactory.ProductionJwtSettings());

        var response = await api.CreateClient().GetAsync(DevMailboxApi.Route, Cancellation);

        await AssertProblemAsync(response, HttpStatusCode.NotFound, ProblemTypes.NotFound);
    }

    private async Task<DevMailboxMessage> SeedAsync(string to, string subject, DateTimeOffset createdAt)
    {
        var message = new DevMailboxMessage
        {
            IdempotencyKey = Guid.NewGuid().ToString("D"),
            FromAddress = "Notifications <notifications@localhost>",
            ToAddress = to,
            Subject = subject,
            Html = $"<p>{subject}</p>",
            Text = $"Plain {subject}",
            Headers = JsonDocument.Parse("""{"List-Unsubscribe":"<https://notifications.test/api/unsubscribe?token=t>"}"""),
            CreatedAt = createdAt,
        };
        await using var context = TestDatabase.CreateContext(servers.DatabaseConnectionString);
        context.DevMailboxMessages.Add(message);
        await context.SaveChangesAsync(Cancellation);
        return message;
    }

    private async Task<JsonElement> GetJsonAsync(string url)
    {
        var response = await _api.CreateClient().GetAsync(url, Cancellation);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await response.Content.ReadFromJsonAsync<JsonElement>(Cancellation);
    }

    private static List<Guid> Ids(JsonElement page) => [.. page.GetProperty("items").EnumerateArray().Select(item => item.GetProperty("id").GetGuid())];
}
