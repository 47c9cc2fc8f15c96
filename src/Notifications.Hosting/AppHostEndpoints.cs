namespace Notifications.Hosting;

/// <summary>
/// The machine-readable file (<c>endpoints.json</c> in the state directory) the AppHost writes once every resource
/// is healthy, rewrites when a process restarts, and deletes on shutdown. JSON, camelCase.
/// </summary>
public sealed record AppHostEndpoints(int AppHostProcessId, string StateDirectory, IReadOnlyDictionary<string, ResourceSnapshot> Resources);

/// <summary>One resource as it runs: kind (postgres, postgres-database, redis, project), connection string, pid, HTTP endpoints by name.</summary>
public sealed record ResourceSnapshot(string Kind)
{
    public string? ConnectionString { get; init; }

    public int? ProcessId { get; init; }

    /// <summary>For a run-to-completion project: its exit code.</summary>
    public int? ExitCode { get; init; }

    public IReadOnlyDictionary<string, string>? Endpoints { get; init; }
}
