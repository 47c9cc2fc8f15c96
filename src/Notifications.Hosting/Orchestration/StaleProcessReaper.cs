using Microsoft.Extensions.Logging;
using Notifications.Hosting.Processes;

namespace Notifications.Hosting.Orchestration;

/// <summary>
/// If the previous AppHost was killed hard (SIGKILL, OOM), its children outlived it. Their pids (with start times)
/// are in the state directory; the next start stops them before reusing the data and ports.
/// </summary>
internal static partial class StaleProcessReaper
{
    private static readonly TimeSpan GracePeriod = TimeSpan.FromSeconds(10);

    public static async Task ReapAsync(AppHostStateStore state, ILogger logger, CancellationToken cancellationToken)
    {
        var alive = state.ReadRecordedProcesses().Where(ProcessIdentity.IsAlive).ToList();
        foreach (var process in alive)
        {
            Log.StoppingStaleProcess(logger, process.Resource, process.ProcessId);
            // SIGINT is a fast shutdown for Postgres and a clean stop for .NET hosts and Redis alike.
            NativeMethods.SendSignal(process.ProcessId, NativeMethods.SigInt);
        }

        var deadline = DateTime.UtcNow + GracePeriod;
        while (alive.Any(ProcessIdentity.IsAlive) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(100), cancellationToken).ConfigureAwait(false);
        }

        foreach (var process in alive.Where(ProcessIdentity.IsAlive))
        {
            Log.KillingStaleProcess(logger, process.Resource, process.ProcessId);
            NativeMethods.SendSignal(process.ProcessId, NativeMethods.SigKill);
        }

        state.ClearRecordedProcesses();
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 1401, Level = LogLevel.Warning, Message = "{Resource}: process {ProcessId} from a previous AppHost run is still alive; stopping it")]
        public static partial void StoppingStaleProcess(ILogger logger, string resource, int processId);

        [LoggerMessage(EventId = 1402, Level = LogLevel.Warning, Message = "{Resource}: process {ProcessId} did not stop; killing it")]
        public static partial void KillingStaleProcess(ILogger logger, string resource, int processId);
    }
}
