using Notifications.Migrator.Extensions;

// Applies the database migrations, then exits: 0 when the schema is current, 1 otherwise.
// The AppHost starts the services only after this step completes successfully.
var builder = Host.CreateApplicationBuilder(args);

builder.AddServiceDefaults();
builder.AddMigratorServices();

using var host = builder.Build();
await host.RunAsync();
