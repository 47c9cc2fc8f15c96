using System.Collections.Concurrent;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Notifications.Testing.Fakes;

/// <summary>A request a fake server received: what a test asserts on.</summary>
public sealed record ReceivedRequest(string Method, string Path, IReadOnlyDictionary<string, string> Headers, string Body)
{
    public JsonElement Json => JsonDocument.Parse(Body).RootElement;

    public string? Header(string name) => Headers.GetValueOrDefault(name.ToLowerInvariant());
}

/// <summary>
/// A real HTTP server on a free loopback port, for standing in for outside SaaS at the HTTP boundary. Subclasses map
/// the provider's routes; every request is recorded, in order, before it is answered.
/// </summary>
public abstract class FakeHttpServer : IAsyncDisposable
{
    private readonly ConcurrentQueue<ReceivedRequest> _requests = new();
    private WebApplication? _app;

    /// <summary>Where the server listens, e.g. <c>http://127.0.0.1:41234/</c>.</summary>
    public Uri BaseUrl { get; private set; } = null!;

    /// <summary>Every request received so far, oldest first.</summary>
    public IReadOnlyList<ReceivedRequest> Requests => [.. _requests];

    protected async Task StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        _app = builder.Build();
        _app.Use(async (context, next) =>
        {
            context.Request.EnableBuffering();
            using var reader = new StreamReader(context.Request.Body, leaveOpen: true);
            var body = await reader.ReadToEndAsync(context.RequestAborted);
            context.Request.Body.Position = 0;
            var headers = context.Request.Headers.ToDictionary(
                header => header.Key.ToLowerInvariant(), header => header.Value.ToString(), StringComparer.Ordinal);
            _requests.Enqueue(new ReceivedRequest(context.Request.Method, context.Request.Path.Value ?? "", headers, body));
            await next(context);
        });
        Map(_app);
        await _app.StartAsync();
        var address = _app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.Single();
        BaseUrl = new Uri(address.EndsWith('/') ? address : address + "/");
    }

    /// <summary>Maps the provider's routes.</summary>
    protected abstract void Map(IEndpointRouteBuilder routes);

    /// <summary>Waits until <paramref name="count"/> requests to <paramref name="path"/> have arrived, or fails the test.</summary>
    public async Task<IReadOnlyList<ReceivedRequest>> WaitForRequestsAsync(string path, int count, TimeSpan? timeout = null)
    {
        var deadline = DateTimeOffset.UtcNow + (timeout ?? TimeSpan.FromSeconds(30));
        while (true)
        {
            var matching = Requests.Where(request => request.Path == path).ToList();
            if (matching.Count >= count)
            {
                return matching;
            }
            if (DateTimeOffset.UtcNow > deadline)
            {
                throw new TimeoutException($"{GetType().Name} received {matching.Count} of {count} requests to {path}.");
            }
            await Task.Delay(TimeSpan.FromMilliseconds(25));
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }
        GC.SuppressFinalize(this);
    }
}
