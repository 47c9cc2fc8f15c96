using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Notifications.Domain;
using Notifications.Domain.Scheduling;

namespace Notifications.Scheduler.Tests;

/// <summary>
/// The real scheduler service (its Program: Quartz clustered on the database, the jobs, the runner), in-process. Every
/// job's trigger is parked far in the future unless a test gives it a schedule, so only what the test means to fire
/// fires.
/// </summary>
internal sealed class SchedulerHostFactory(
    string redisConnectionString,
    string databaseConnectionString,
    IReadOnlyDictionary<string, string?>? settings = null,
    Action<IServiceCollection>? services = null) : WebApplicationFactory<Program>
{
    /// <summary>Midnight on 1 January 2099: a schedule that never comes during a test.</summary>
    public const string Never = "0 0 0 1 1 ? 2099";

    /// <summary>Every second.</summary>
    public const string EverySecond = "* * * * * ?";

    public static string CronKey(string jobName) => $"{SchedulerOptions.SectionName}:Jobs:{CronSchedules.KeyOf(jobName)}:Cron";

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment("Test");
        builder.UseSetting($"ConnectionStrings:{ResourceNames.Redis}", redisConnectionString);
        builder.UseSetting($"ConnectionStrings:{ResourceNames.Database}", databaseConnectionString);
        foreach (var job in CronJobCatalog.All)
        {
            builder.UseSetting(CronKey(job.Name), Never);
        }
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
        {
            builder.UseSetting(key, value);
        }
        if (services is not null)
        {
            builder.ConfigureTestServices(services);
        }
    }

    /// <summary>Builds and starts the host (and with it the Quartz scheduler).</summary>
    public IServiceProvider Start() => Services;
}
