namespace Notifications.Migrator.Extensions;

internal static class Extensions
{
    public static void AddMigratorServices(this IHostApplicationBuilder builder)
    {
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddHostedService<MigrationWorker>();
    }
}
