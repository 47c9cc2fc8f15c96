using Microsoft.Extensions.Hosting;
using Notifications.Domain.Persistence;

namespace Notifications.IntegrationTests.ServiceDefaults;

public sealed class ClientRegistrationTests
{
    [Fact]
    public void AddRedisClient_without_a_connection_string_fails_at_start_up_naming_the_setting()
    {
        var builder = Host.CreateApplicationBuilder();

        var error = Assert.Throws<InvalidOperationException>(() => builder.AddRedisClient("redis"));

        Assert.Contains("ConnectionStrings:redis", error.Message);
        Assert.Contains("ConnectionStrings__redis", error.Message);
    }

    [Fact]
    public void AddNpgsqlDbContext_without_a_connection_string_fails_at_start_up_naming_the_setting()
    {
        var builder = Host.CreateApplicationBuilder();

        var error = Assert.Throws<InvalidOperationException>(() => builder.AddNpgsqlDbContext<NotificationsDbContext>("notificationsdb"));

        Assert.Contains("ConnectionStrings:notificationsdb", error.Message);
    }
}
