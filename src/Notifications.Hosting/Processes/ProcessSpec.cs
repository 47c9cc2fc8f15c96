namespace Notifications.Hosting.Processes;

/// <summary>What to run, where, with which extra environment, and how to ask it to stop.</summary>
public sealed record ProcessSpec(string FileName, IReadOnlyList<string> Arguments, string WorkingDirectory)
{
    public IReadOnlyDictionary<string, string?> Environment { get; init; } = new Dictionary<string, string?>();

    /// <summary>The signal that asks for a clean stop (SIGINT is PostgreSQL's fast shutdown).</summary>
    public int StopSignal { get; init; } = 15;

    public override string ToString() => $"{FileName} {string.Join(' ', Arguments)}";
}
