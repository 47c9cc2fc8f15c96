using System.Net.Http.Headers;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Notifications.Api.Security;
using Notifications.Domain;

namespace Notifications.IntegrationTests.Api.Security;

/// <summary>
/// The real API host, in-process, against a real Redis and a migrated database, with the test-only endpoints of
/// <see cref="TestEndpoints"/>.
/// </summary>
internal sealed class SecurityApiFactory(
    string redisConnectionString,
    string databaseConnectionString,
    string environment = "Development",
    IReadOnlyDictionary<string, string>? settings = null,
    TimeProvider? timeProvider = null) : WebApplicationFactory<Program>
{
    private readonly ErrorLogCapture _errors = new();

    /// <summary>Messages of the exceptions the host logged as errors, e.g. why it refused to start.</summary>
    public string LoggedErrors => _errors.Messages;

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment(environment);
        builder.ConfigureLogging(logging => logging.AddProvider(_errors));
        builder.UseSetting($"ConnectionStrings:{ResourceNames.Redis}", redisConnectionString);
        builder.UseSetting($"ConnectionStrings:{ResourceNames.Database}", databaseConnectionString);
        foreach (var (key, value) in settings ?? new Dictionary<string, string>())
        {
            builder.UseSetting(key, value);
        }
        builder.ConfigureTestServices(services =>
        {
            services.AddSingleton<IStartupFilter, TestEndpoints.StartupFilter>();
            if (timeProvider is not null)
            {
                services.AddSingleton(timeProvider);
            }
        });
    }

    /// <summary>A token the host accepts, signed with its own configured key.</summary>
    public string IssueToken(string subject, string[]? roles = null, string[]? scopes = null) =>
        Services.GetRequiredService<AccessTokenIssuer>().Issue(subject, roles ?? [], scopes ?? [], TimeSpan.FromMinutes(5)).AccessToken;

    /// <summary>A client holding a producer's token (scope <c>notifications:send</c>), for a fresh producer unless one is named.</summary>
    public HttpClient CreateProducerClient(string? producerId = null) =>
        CreateClient(IssueToken(producerId ?? $"producer-{Guid.NewGuid():N}", scopes: ["notifications:send"]));

    public HttpClient CreateClient(string bearerToken)
    {
        var client = CreateClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", bearerToken);
        return client;
    }

    /// <summary>Production-like settings: a real (non-published) key, as an operator would configure it.</summary>
    public static Dictionary<string, string> ProductionJwtSettings() => new()
    {
        ["Authentication:Jwt:Issuer"] = "https://notifications.example",
        ["Authentication:Jwt:Audience"] = "notifications-api",
        ["Authentication:Jwt:SigningKey"] = "a-production-secret-that-is-long-enough-for-hs256",
        // Required outside Development as well: the key unsubscribe links are signed with.
        ["Email:Unsubscribe:SigningKey"] = "a-production-unsubscribe-secret-that-is-long-enough",
    };
}
