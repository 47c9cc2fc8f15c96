using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Notifications.Api.Apis;
using Notifications.Api.Problems;
using static Notifications.IntegrationTests.Api.Security.ProblemAssertions;

namespace Notifications.IntegrationTests.Api.Security;

[Collection(ApiSecurityCollection.Name)]
public sealed class DevTokenApiTests(TestServers servers)
{
    private static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    [Fact]
    public async Task IssueToken_InDevelopment_ReturnsATokenTheApiAcceptsWithItsRoles()
    {
        await using var api = new SecurityApiFactory(servers.Redis.ConnectionString, servers.DatabaseConnectionString, "Development");
        var client = api.CreateClient();

        var response = await client.PostAsJsonAsync(DevTokenApi.Route,
            new { sub = "user-dev", roles = new[] { "admin" }, scopes = new[] { "notifications:send" } }, Cancellation);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>(Cancellation);
        Assert.True(body.GetProperty("expiresAt").GetDateTimeOffset() > DateTimeOffset.UtcNow);
        var adminResponse = await api.CreateClient(body.GetProperty("accessToken").GetString()!).GetAsync(TestEndpoints.AdminRoute, Cancellation);
        Assert.Equal(HttpStatusCode.OK, adminResponse.StatusCode);
    }

    [Fact]
    public async Task IssueToken_WithoutSubjectOrWithABadScope_Returns400ProblemNamingTheFields()
    {
        await using var api = new SecurityApiFactory(servers.Redis.ConnectionString, servers.DatabaseConnectionString, "Development");

        var response = await api.CreateClient().PostAsJsonAsync(DevTokenApi.Route,
            new { roles = new[] { "admin" }, scopes = new[] { "two words" } }, Cancellation);

        var problem = await AssertProblemAsync(response, HttpStatusCode.BadRequest, ProblemTypes.Validation);
        var errors = problem.GetProperty("errors");
        Assert.True(errors.TryGetProperty("sub", out _));
        Assert.True(errors.TryGetProperty("scopes[0]", out _));
    }

    [Fact]
    public async Task IssueToken_InProduction_DoesNotExist()
    {
        await using var api = new SecurityApiFactory(servers.Redis.ConnectionString, servers.DatabaseConnectionString, "Production", SecurityApiFactory.ProductionJwtSettings());

        var response = await api.CreateClient().PostAsJsonAsync(DevTokenApi.Route, new { sub = "user-1" }, Cancellation);

        await AssertProblemAsync(response, HttpStatusCode.NotFound, ProblemTypes.NotFound);
    }
}
