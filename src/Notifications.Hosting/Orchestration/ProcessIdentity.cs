using System.Globalization;

namespace Notifications.Hosting.Orchestration;

/// <summary>Identifies a process by pid plus kernel start time, so a recycled pid is never mistaken for our child.</summary>
internal static class ProcessIdentity
{
    /// <summary>The process's start time in clock ticks since boot (field 22 of /proc/&lt;pid&gt;/stat), or null if it is gone.</summary>
    public static long? GetStartTicks(int processId)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{processId}/stat");
            // The command name (field 2) may contain spaces and parentheses; the fields after the last ')' are fixed.
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            return long.Parse(fields[19], CultureInfo.InvariantCulture);
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException)
        {
            return null;
        }
    }

    public static bool IsAlive(RecordedProcess process)
        => GetStartTicks(process.ProcessId) is { } startTicks && (process.StartTicks == 0 || startTicks == process.StartTicks);
}
