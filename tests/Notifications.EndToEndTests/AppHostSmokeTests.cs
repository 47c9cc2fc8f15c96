using System.Net;
using Notifications.Hosting.Provisioning;
using Notifications.Testing;
using Npgsql;

namespace Notifications.EndToEndTests;

[Collection(RunningAppHostCollection.Name)]
public sealed class AppHostSmokeTests(AppHostTestHost appHost)
{
    public static TheoryData<string, string> ServiceProbes => new()
    {
        { "api", "/health" }, { "api", "/alive" },
        { "emailworker", "/health" }, { "emailworker", "/alive" },
        { "scheduler", "/health" }, { "scheduler", "/alive" },
    };

    [Fact]
    public void EveryResourceOfTheGraph_IsReported_WithItsProcessOrConnectionString()
    {
        var resources = appHost.Endpoints.Resources;

        Assert.Equal(["api", "emailworker", "migrator", "notificationsdb", "postgres", "redis", "scheduler"], resources.Keys.Order());
        Assert.All(["postgres", "redis", "api", "emailworker", "scheduler"], name => Assert.NotNull(resources[name].ProcessId));
        Assert.All(["postgres", "notificationsdb", "redis"], name => Assert.False(string.IsNullOrEmpty(resources[name].ConnectionString)));
    }

    [Fact]
    public void Migrator_RanToCompletion_BeforeTheServicesStarted()
    {
        Assert.Equal(0, appHost.GetResource("migrator").ExitCode);
        Assert.Null(appHost.GetResource("migrator").ProcessId);
    }

    [Fact]
    public async Task NotificationsDatabase_AcceptsConnections_WithTheInjectedConnectionString()
    {
        await using var connection = new NpgsqlConnection(appHost.GetConnectionString("notificationsdb"));
        await connection.OpenAsync(TestContext.Current.CancellationToken);
        await using var command = new NpgsqlCommand("SELECT current_database()", connection);

        Assert.Equal("notificationsdb", await command.ExecuteScalarAsync(TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task Redis_AnswersPing_WithTheGeneratedPassword()
    {
        var connectionString = appHost.GetConnectionString("redis");
        var hostAndPort = connectionString.Split(',')[0];
        var password = connectionString.Split("password=")[1];

        Assert.True(await RedisServerSetup.PingAsync(int.Parse(hostAndPort.Split(':')[1]), password, TestContext.Current.CancellationToken));
    }

    [Fact]
    public void PostgresConnectionString_HasAGeneratedPassword_NotABlankOne()
    {
        var builder = new NpgsqlConnectionStringBuilder(appHost.GetConnectionString("postgres"));

        Assert.Equal("127.0.0.1", builder.Host);
        Assert.True(builder.Password?.Length >= 32);
    }

    [Theory]
    [MemberData(nameof(ServiceProbes))]
    public async Task Service_AnswersOk_OnItsHealthEndpoints(string service, string path)
    {
        using var client = appHost.CreateHttpClient(service);

        using var response = await client.GetAsync(path, TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }
}
