using Notifications.WorkerBench;

namespace Notifications.LoadTest;

/// <summary>CPU time spent during a run by the API and by the Postgres backends serving the AppHost's database.</summary>
internal sealed record CpuSummary(TimeSpan Api, TimeSpan DatabaseBackends);

/// <summary>
/// Takes the CPU times at the start of a run and their difference at its end. Per accepted notification they show
/// what a send costs even when the machine is shared and throughput figures drift with other load.
/// </summary>
internal sealed class CpuUsage
{
    private readonly int _apiProcessId;
    private readonly TimeSpan _apiAtStart;
    private readonly TimeSpan _backendsAtStart;

    private CpuUsage(int apiProcessId)
    {
        _apiProcessId = apiProcessId;
        _apiAtStart = ProcessCpu.Of(apiProcessId);
        _backendsAtStart = DatabaseBackends();
    }

    /// <summary>Null when the API's process is unknown (not started by the AppHost).</summary>
    public static CpuUsage? Start(int? apiProcessId) => apiProcessId is { } id ? new CpuUsage(id) : null;

    public CpuSummary Stop() => new(ProcessCpu.Of(_apiProcessId) - _apiAtStart, DatabaseBackends() - _backendsAtStart);

    // A backend shows its database in its command line (`postgres: postgres notificationsdb 127.0.0.1(…) idle`);
    // backends that end during the run are not counted, which the API's pooled connections do not do.
    private static TimeSpan DatabaseBackends() =>
        ProcessCpu.OfMatching(commandLine => commandLine.StartsWith("postgres: ", StringComparison.Ordinal)
            && commandLine.Contains(" notificationsdb ", StringComparison.Ordinal));
}
