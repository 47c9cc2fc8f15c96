using System.Net;
using System.Text;
using Notifications.Api.Problems;
using static Notifications.IntegrationTests.Api.Security.ProblemAssertions;

namespace Notifications.IntegrationTests.Api.Security;

[Collection(ApiSecurityCollection.Name)]
public sealed class ProblemDetailsTests(TestServers servers) : IAsyncDisposable
{
    private static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    private readonly SecurityApiFactory _api = new(servers.Redis.ConnectionString, servers.DatabaseConnectionString, "Production", SecurityApiFactory.ProductionJwtSettings());

    public ValueTask DisposeAsync() => _api.DisposeAsync();

    [Fact]
    public async Task UnhandledException_Returns500ProblemWithTraceIdAndNothingOfTheException()
    {
        var response = await _api.CreateClient().GetAsync(TestEndpoints.FailureRoute, Cancellation);

        await AssertProblemAsync(response, HttpStatusCode.InternalServerError, ProblemTypes.InternalError);
        var body = await response.Content.ReadAsStringAsync(Cancellation);
        Assert.DoesNotContain(TestEndpoints.InternalFailureMessage, body);
        Assert.DoesNotContain(nameof(InvalidOperationException), body);
    }

    [Fact]
    public async Task JsonBody_WrongTypeInAField_Returns400ProblemNamingTheField()
    {
        var response = await PostJsonAsync("""{ "priority": "urgent", "title": "hello" }""");

        var problem = await AssertProblemAsync(response, HttpStatusCode.BadRequest, ProblemTypes.Validation);
        Assert.True(problem.GetProperty("errors").TryGetProperty("priority", out _));
        Assert.Contains("priority", problem.GetProperty("detail").GetString());
    }

    [Fact]
    public async Task JsonBody_Malformed_Returns400Problem()
    {
        var response = await PostJsonAsync("""{ "priority": 1, "title": """);

        var problem = await AssertProblemAsync(response, HttpStatusCode.BadRequest, ProblemTypes.Validation);
        Assert.Contains("not valid JSON", problem.GetProperty("detail").GetString());
    }

    [Fact]
    public async Task UnknownRoute_Returns404Problem()
    {
        var response = await _api.CreateClient().GetAsync("/api/no-such-route", Cancellation);

        await AssertProblemAsync(response, HttpStatusCode.NotFound, ProblemTypes.NotFound);
    }

    private Task<HttpResponseMessage> PostJsonAsync(string json) =>
        _api.CreateClient().PostAsync(TestEndpoints.BodyRoute, new StringContent(json, Encoding.UTF8, "application/json"), Cancellation);
}
