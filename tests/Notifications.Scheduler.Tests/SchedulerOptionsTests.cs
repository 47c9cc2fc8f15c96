using Notifications.Domain.Scheduling;

namespace Notifications.Scheduler.Tests;

/// <summary>The schedules come from configuration; a bad schedule or limit stops start-up with a message naming the setting.</summary>
[Collection(SchedulerTestCollection.Name)]
public sealed class SchedulerOptionsTests(TestServers servers)
{
    [Theory]
    [InlineData("Scheduler:Jobs:DigestDispatch:Cron", "* * * *", "Scheduler:Jobs:DigestDispatch:Cron '* * * *' is not a Quartz cron expression (digest-dispatch)")]
    [InlineData("Scheduler:Jobs:Retention:Cron", "0 61 3 * * ?", "Scheduler:Jobs:Retention:Cron '0 61 3 * * ?' is not a Quartz cron expression (retention)")]
    [InlineData("Scheduler:Jobs:QuotaReconcile:TimeZone", "Mars/Olympus_Mons", "Scheduler:Jobs:QuotaReconcile:TimeZone 'Mars/Olympus_Mons' is not a time zone")]
    [InlineData("Scheduler:Digests:BatchSize", "0", "Scheduler:Digests:BatchSize must be between 1 and 10000 (was 0)")]
    [InlineData("Scheduler:StuckJobs:Threshold", "00:00:10", "Scheduler:StuckJobs:Threshold must be between 00:01:00")]
    [InlineData("Scheduler:Retention:DeliveryLogAge", "00:00:00", "Scheduler:Retention:DeliveryLogAge must be between")]
    [InlineData("Scheduler:Alerts:ErrorRateThreshold", "1.5", "Scheduler:Alerts:ErrorRateThreshold must be at least 0 and less than 1")]
    [InlineData("Scheduler:Alerts:RepeatCooldown", "2.00:00:00", "Scheduler:Alerts:RepeatCooldown must be between 00:00:00 and 1.00:00:00")]
    public async Task Start_WithABadSetting_FailsNamingTheSetting(string key, string value, string expected)
    {
        var database = await TestDatabase.CreateMigratedDatabaseAsync(servers.Postgres);
        await using var scheduler = new SchedulerHostFactory(servers.Redis.ConnectionString, database, new Dictionary<string, string?> { [key] = value });

        var error = Assert.ThrowsAny<Exception>(() => scheduler.Start());

        Assert.Contains(expected, error.ToString());
    }

    [Fact]
    public async Task Start_StoresEveryCatalogueJobWithItsConfiguredCronTrigger()
    {
        var database = await TestDatabase.CreateMigratedDatabaseAsync(servers.Postgres);
        await using var scheduler = new SchedulerHostFactory(servers.Redis.ConnectionString, database, new Dictionary<string, string?>
        {
            [SchedulerHostFactory.CronKey(CronJobCatalog.QuotaReconcile)] = "0 59 23 * * ?",
        });

        scheduler.Start();

        await using var connection = new Npgsql.NpgsqlConnection(database);
        await connection.OpenAsync(TestContext.Current.CancellationToken);
        await using var command = new Npgsql.NpgsqlCommand(
            "SELECT t.trigger_name, c.cron_expression, c.time_zone_id FROM qrtz_triggers t JOIN qrtz_cron_triggers c USING (sched_name, trigger_name, trigger_group) WHERE t.sched_name = @name ORDER BY 1",
            connection);
        command.Parameters.AddWithValue("name", CronJobStore.SchedulerName);
        var triggers = new Dictionary<string, (string Cron, string TimeZone)>();
        await using (var reader = await command.ExecuteReaderAsync(TestContext.Current.CancellationToken))
        {
            while (await reader.ReadAsync(TestContext.Current.CancellationToken))
            {
                triggers[reader.GetString(0)] = (reader.GetString(1), reader.GetString(2));
            }
        }
        Assert.Equal(CronJobCatalog.All.Select(job => job.Name).Order(), triggers.Keys.Order());
        Assert.Equal(("0 59 23 * * ?", "UTC"), triggers[CronJobCatalog.QuotaReconcile]);
    }
}
