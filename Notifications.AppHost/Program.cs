var builder = DistributedApplication.CreateBuilder(args);

var postgres = builder.AddPostgres("postgres");
var database = postgres.AddDatabase("notificationsdb");
var redis = builder.AddRedis("redis");

var migrator = builder.AddProject<Projects.Notifications_Migrator>("migrator")
    .WithReference(database)
    .WaitFor(database);

// A fixed port so the README's curl examples work; override with --AppHost:Ports:api=<port>.
var api = builder.AddProject<Projects.Notifications_Api>("api")
    .WithHttpEndpoint(port: 5080)
    .WithReference(database)
    .WithReference(redis)
    .WaitFor(redis)
    .WaitForCompletion(migrator);

builder.AddProject<Projects.Notifications_EmailWorker>("emailworker")
    .WithHttpEndpoint()
    .WithReference(database)
    .WithReference(redis)
    .WithReference(api)
    .WaitFor(redis)
    .WaitForCompletion(migrator);

builder.AddProject<Projects.Notifications_Scheduler>("scheduler")
    .WithHttpEndpoint()
    .WithReference(database)
    .WithReference(redis)
    .WaitFor(redis)
    .WaitForCompletion(migrator);

builder.Build().Run();
