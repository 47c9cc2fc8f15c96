using Notifications.EmailWorker.Extensions;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddEmailWorkerServices();

var app = builder.Build();

app.MapDefaultEndpoints();

app.Run();
