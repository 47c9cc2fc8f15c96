using Notifications.Api.Apis;
using Notifications.Api.Extensions;
using Notifications.Api.Security;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddApiServices();

var app = builder.Build();

app.UseApiSecurity();
app.MapDefaultEndpoints();
app.MapApiDocument();
app.MapUsersApi();
app.MapNotificationSendApi();
app.MapJobsApi();
app.MapInboxApi();
app.MapPreferencesApi();
app.MapRealtimeApi();
app.MapDigestSchedulesApi();
app.MapAdminMetricsApi();
app.MapUnsubscribeApi();
app.MapCronJobsApi();
app.MapDeadLetterApi();

app.Run();
