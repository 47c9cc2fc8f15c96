using System.Collections.Concurrent;
using System.Diagnostics;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Notifications.ServiceDefaults.Clients;
using StackExchange.Redis;

namespace Notifications.IntegrationTests.ServiceDefaults;

/// <summary>
/// Checks the spans a service gets from <c>AddServiceDefaults()</c> with an in-process <see cref="ActivityListener"/>,
/// the way an exporter would see them.
/// </summary>
/// <remarks>
/// An <see cref="ActivityListener"/> sees every host in the process, so this collection runs alone.
/// </remarks>
[CollectionDefinition(nameof(ServiceDefaultsTelemetryTests), DisableParallelization = true)]
public sealed class ServiceDefaultsTelemetryCollection : ICollectionFixture<RedisServerFixture>;

[Collection(nameof(ServiceDefaultsTelemetryTests))]
public sealed class ServiceDefaultsTelemetryTests : IDisposable
{
    private readonly RedisServerFixture _redis;
    private readonly ConcurrentQueue<Activity> _stopped = new();
    private readonly ActivityListener _listener;

    public ServiceDefaultsTelemetryTests(RedisServerFixture redis)
    {
        _redis = redis;
        _listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name is "Microsoft.AspNetCore" or TracingRedisDatabase.ActivitySourceName,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = activity => _stopped.Enqueue(activity),
        };
        ActivitySource.AddActivityListener(_listener);
    }

    public void Dispose() => _listener.Dispose();

    [Fact]
    public async Task Http_request_produces_a_server_span_named_after_its_route_with_semantic_tags()
    {
        await using var app = await StartServiceAsync();
        using var client = new HttpClient { BaseAddress = BaseAddress(app) };

        var response = await client.GetAsync("/items/42", TestContext.Current.CancellationToken);

        Assert.Equal(200, (int)response.StatusCode);
        var span = await WaitForSpanAsync(a => a.Source.Name == "Microsoft.AspNetCore" && Equals(a.GetTagItem("url.path"), "/items/42"));
        Assert.Equal("GET /items/{id}", span.DisplayName);
        Assert.Equal(ActivityKind.Server, span.Kind);
        Assert.Equal("/items/{id}", span.GetTagItem("http.route"));
        Assert.Equal("GET", span.GetTagItem("http.request.method"));
        Assert.Equal(200, span.GetTagItem("http.response.status_code"));
        Assert.True(span.Recorded);
    }

    [Fact]
    public async Task Health_probes_are_not_recorded_in_traces()
    {
        await using var app = await StartServiceAsync();
        using var client = new HttpClient { BaseAddress = BaseAddress(app) };

        (await client.GetAsync("/health", TestContext.Current.CancellationToken)).EnsureSuccessStatusCode();
        (await client.GetAsync("/alive", TestContext.Current.CancellationToken)).EnsureSuccessStatusCode();

        var probes = await WaitForSpansAsync(a => a.Source.Name == "Microsoft.AspNetCore", count: 2);
        Assert.All(probes, probe => Assert.False(probe.Recorded));
    }

    [Fact]
    public async Task Redis_call_through_the_registered_database_is_a_client_span_under_the_caller()
    {
        await using var app = await StartServiceAsync(builder =>
        {
            builder.Configuration["ConnectionStrings:redis"] = _redis.ConnectionString;
            builder.AddRedisClient("redis");
        });
        var database = app.Services.GetRequiredService<IDatabase>();
        using var parent = new ActivitySource("Notifications.Tests").StartActivity("caller");

        await database.ExecuteAsync("SET", "telemetry-test", "1");

        var span = await WaitForSpanAsync(a => a.Source.Name == TracingRedisDatabase.ActivitySourceName && a.DisplayName == "SET");
        Assert.Equal(ActivityKind.Client, span.Kind);
        Assert.Equal("redis", span.GetTagItem("db.system.name"));
        Assert.Equal(parent?.SpanId, span.ParentSpanId);
        Assert.Same(parent, Activity.Current);
    }

    private async Task<Activity> WaitForSpanAsync(Func<Activity, bool> match) =>
        Assert.Single(await WaitForSpansAsync(match, count: 1));

    /// <summary>
    /// A server span stops after the response has reached the client, so the test waits for it (generously: this
    /// is a wait for an event, not a measurement) and then checks that no more than expected arrived.
    /// </summary>
    private async Task<IReadOnlyList<Activity>> WaitForSpansAsync(Func<Activity, bool> match, int count)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(30));
        while (_stopped.Count(match) < count)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(10), timeout.Token);
        }
        return [.. _stopped.Where(match)];
    }

    private static async Task<WebApplication> StartServiceAsync(Action<WebApplicationBuilder>? configure = null)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = Environments.Production });
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.AddServiceDefaults();
        configure?.Invoke(builder);
        var app = builder.Build();
        app.MapDefaultEndpoints();
        app.MapGet("/items/{id}", (int id) => TypedResults.Ok(id));
        await app.StartAsync(TestContext.Current.CancellationToken);
        return app;
    }

    private static Uri BaseAddress(WebApplication app) =>
        new(app.Services.GetRequiredService<Microsoft.AspNetCore.Hosting.Server.IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());
}
