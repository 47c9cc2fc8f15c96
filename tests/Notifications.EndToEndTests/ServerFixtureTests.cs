using Notifications.Hosting.Provisioning;
using Notifications.Testing;
using Npgsql;

namespace Notifications.EndToEndTests;

public sealed class PostgresServerFixtureTests(PostgresServerFixture postgres) : IClassFixture<PostgresServerFixture>
{
    [Fact]
    public async Task CreateDatabase_ReturnsAConnectionStringToAFreshEmptyDatabase()
    {
        var connectionString = await postgres.CreateDatabaseAsync();

        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(TestContext.Current.CancellationToken);
        await using var command = new NpgsqlCommand("SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'", connection);
        Assert.Equal(0L, await command.ExecuteScalarAsync(TestContext.Current.CancellationToken));
    }
}

public sealed class RedisServerFixtureTests(RedisServerFixture redis) : IClassFixture<RedisServerFixture>
{
    [Fact]
    public async Task StopThenStart_BringsTheServerBack_OnTheSamePort()
    {
        var port = int.Parse(redis.ConnectionString.Split(',')[0].Split(':')[1]);
        var password = redis.ConnectionString.Split("password=")[1];

        await redis.StopAsync();
        var answeredWhileStopped = await RedisServerSetup.PingAsync(port, password, TestContext.Current.CancellationToken);
        await redis.StartAsync();

        Assert.False(answeredWhileStopped);
        Assert.True(await RedisServerSetup.PingAsync(port, password, TestContext.Current.CancellationToken));
    }
}
