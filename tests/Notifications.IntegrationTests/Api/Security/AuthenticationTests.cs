using System.Net;
using System.Text;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using Notifications.Api.Problems;
using Notifications.Api.Security;
using static Notifications.IntegrationTests.Api.Security.ProblemAssertions;

namespace Notifications.IntegrationTests.Api.Security;

[Collection(ApiSecurityCollection.Name)]
public sealed class AuthenticationTests(TestServers servers) : IAsyncDisposable
{
    private static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    private readonly SecurityApiFactory _api = new(servers.Redis.ConnectionString, servers.DatabaseConnectionString);

    public ValueTask DisposeAsync() => _api.DisposeAsync();

    [Fact]
    public async Task UserRoute_WithoutToken_Returns401ProblemAndBearerChallenge()
    {
        var response = await _api.CreateClient().GetAsync(TestEndpoints.UserRoute, Cancellation);

        await AssertProblemAsync(response, HttpStatusCode.Unauthorized, ProblemTypes.Unauthorized);
        Assert.Equal("Bearer", Assert.Single(response.Headers.WwwAuthenticate).Scheme);
    }

    [Fact]
    public async Task UserRoute_TokenSignedWithAnotherKey_Returns401Problem()
    {
        var token = ForgeToken(signingKey: "another-key-that-is-also-long-enough-for-hs256", expires: DateTime.UtcNow.AddMinutes(5));

        var response = await _api.CreateClient(token).GetAsync(TestEndpoints.UserRoute, Cancellation);

        await AssertProblemAsync(response, HttpStatusCode.Unauthorized, ProblemTypes.Unauthorized);
    }

    [Fact]
    public async Task UserRoute_ExpiredToken_Returns401ProblemSayingItExpired()
    {
        var token = ForgeToken(JwtOptions.PublishedDevelopmentSigningKey, expires: DateTime.UtcNow.AddHours(-1));

        var response = await _api.CreateClient(token).GetAsync(TestEndpoints.UserRoute, Cancellation);

        var problem = await AssertProblemAsync(response, HttpStatusCode.Unauthorized, ProblemTypes.Unauthorized);
        Assert.Contains("expired", problem.GetProperty("detail").GetString());
    }

    [Fact]
    public async Task UserRoute_TokenForAnotherAudience_Returns401Problem()
    {
        var token = ForgeToken(JwtOptions.PublishedDevelopmentSigningKey, DateTime.UtcNow.AddMinutes(5), audience: "someone-else");

        var response = await _api.CreateClient(token).GetAsync(TestEndpoints.UserRoute, Cancellation);

        await AssertProblemAsync(response, HttpStatusCode.Unauthorized, ProblemTypes.Unauthorized);
    }

    [Fact]
    public async Task UserRoute_ValidToken_SeesTheSubjectAsTheCallersUserId()
    {
        var response = await _api.CreateClient(_api.IssueToken("user-42")).GetAsync(TestEndpoints.UserRoute, Cancellation);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("user-42", await response.Content.ReadAsStringAsync(Cancellation));
    }

    [Fact]
    public async Task AdminRoute_UserTokenWithoutAdminRole_Returns403Problem()
    {
        var token = _api.IssueToken(NewUserId(), roles: ["producer"], scopes: [Scopes.NotificationsSend]);

        var response = await _api.CreateClient(token).GetAsync(TestEndpoints.AdminRoute, Cancellation);

        await AssertProblemAsync(response, HttpStatusCode.Forbidden, ProblemTypes.Forbidden);
    }

    [Fact]
    public async Task AdminRoute_AdminRole_IsAllowed()
    {
        var response = await _api.CreateClient(_api.IssueToken(NewUserId(), roles: [Roles.Admin])).GetAsync(TestEndpoints.AdminRoute, Cancellation);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Theory]
    [InlineData(new string[0], new[] { "notifications:send" })]
    [InlineData(new string[0], new[] { "profile", "notifications:send" })]
    [InlineData(new[] { "producer" }, new string[0])]
    public async Task ProducerRoute_SendScopeOrProducerRole_IsAllowed(string[] roles, string[] scopes)
    {
        var response = await _api.CreateClient(_api.IssueToken(NewUserId(), roles, scopes)).GetAsync(TestEndpoints.ProducerRoute, Cancellation);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task ProducerRoute_PlainUserToken_Returns403Problem()
    {
        var token = _api.IssueToken(NewUserId(), roles: [Roles.Admin], scopes: ["notifications:read"]);

        var response = await _api.CreateClient(token).GetAsync(TestEndpoints.ProducerRoute, Cancellation);

        await AssertProblemAsync(response, HttpStatusCode.Forbidden, ProblemTypes.Forbidden);
    }

    private static string NewUserId() => $"user-{Guid.NewGuid():N}";

    private static string ForgeToken(string signingKey, DateTime expires, string audience = "notifications-api") =>
        new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
        {
            Issuer = "https://localhost/notifications-dev",
            Audience = audience,
            Claims = new Dictionary<string, object> { [ClaimNames.Subject] = NewUserId() },
            IssuedAt = expires.AddHours(-1),
            NotBefore = expires.AddHours(-1),
            Expires = expires,
            SigningCredentials = new SigningCredentials(new SymmetricSecurityKey(Encoding.UTF8.GetBytes(signingKey)), SecurityAlgorithms.HmacSha256),
        });
}
