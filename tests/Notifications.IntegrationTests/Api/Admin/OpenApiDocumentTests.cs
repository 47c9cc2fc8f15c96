using System.Net;
using System.Text.Json;
using Notifications.IntegrationTests.Api.Security;

namespace Notifications.IntegrationTests.Api.Admin;

[Collection(ApiSecurityCollection.Name)]
public sealed class OpenApiDocumentTests(TestServers servers)
{
    private static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Development_ServesTheOpenApiDocumentNamingTheSendRoutes()
    {
        await using var api = new SecurityApiFactory(servers.Redis.ConnectionString, servers.DatabaseConnectionString);

        var response = await api.CreateClient().GetAsync("/openapi/v1.json", Cancellation);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var paths = JsonDocument.Parse(await response.Content.ReadAsStringAsync(Cancellation)).RootElement.GetProperty("paths");
        Assert.True(paths.TryGetProperty("/api/notifications", out _));
        Assert.True(paths.TryGetProperty("/api/notifications/batch", out _));
        Assert.True(paths.TryGetProperty("/api/users/{id}", out _));
    }

    [Fact]
    public async Task Production_DoesNotServeIt()
    {
        await using var api = new SecurityApiFactory(servers.Redis.ConnectionString, servers.DatabaseConnectionString,
            environment: "Production", settings: SecurityApiFactory.ProductionJwtSettings());

        var response = await api.CreateClient().GetAsync("/openapi/v1.json", Cancellation);

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }
}
