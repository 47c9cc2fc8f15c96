using Notifications.Api.Apis;
using Notifications.Api.Extensions;
using Notifications.Api.Security;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddApiServices();

var app = builder.Build();

app.UseApiSecurity();
app.MapDefaultEndpoints();
app.MapJobsApi();
app.MapDeadLetterApi();

app.Run();
