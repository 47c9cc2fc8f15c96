using System.Text.Json;
using Notifications.Hosting;

namespace Notifications.LoadTest;

/// <summary>
/// The API under test: its URL, and — when it runs under the AppHost — its process id and the worker's (to sample their
/// memory).
/// </summary>
internal sealed record TargetApi(Uri BaseUrl, int? ProcessId, int? WorkerProcessId)
{
    private const string ApiResource = "api";
    private const string WorkerResource = "emailworker";

    public static TargetApi Resolve(LoadTestOptions options)
    {
        var endpoints = ReadAppHostEndpoints(options.StateDirectory);
        var api = endpoints?.Resources.GetValueOrDefault(ApiResource);
        var url = options.ApiUrl ?? api?.Endpoints?.Values.FirstOrDefault()
            ?? throw new InvalidOperationException(
                "No running AppHost found: start it with `dotnet run --project Notifications.AppHost` or pass --ApiUrl.");
        // A process id only means something when the URL is the AppHost's own API.
        var processId = options.ApiUrl is null || api?.Endpoints?.Values.Contains(options.ApiUrl) == true ? api?.ProcessId : null;
        return new TargetApi(new Uri(url), processId, processId is null ? null : endpoints?.Resources.GetValueOrDefault(WorkerResource)?.ProcessId);
    }

    private static AppHostEndpoints? ReadAppHostEndpoints(string? stateDirectory)
    {
        var directory = new AppHostOptions { StateDirectory = stateDirectory }.ResolveStateDirectory();
        var file = Path.Combine(directory, "endpoints.json");
        return File.Exists(file)
            ? JsonSerializer.Deserialize<AppHostEndpoints>(File.ReadAllText(file), JsonSerializerOptions.Web)
            : null;
    }
}
