namespace Notifications.WorkerBench;

/// <summary>CPU time of processes, from <c>/proc/{pid}/stat</c> (user + system, in clock ticks of 1/100 s).</summary>
internal static class ProcessCpu
{
    public static TimeSpan Of(int processId)
    {
        var stat = File.ReadAllText($"/proc/{processId}/stat");
        // Fields after the command name (which may contain spaces) start after the last ')'; utime and stime are 14 and 15.
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        return TimeSpan.FromSeconds((long.Parse(fields[11]) + long.Parse(fields[12])) / 100.0);
    }

    /// <summary>
    /// CPU time of every process whose command line (as the process shows it) matches: the Postgres backends serving the
    /// bench's database show its name (<c>postgres: … worker_bench …</c>), its Redis shows its address.
    /// </summary>
    public static TimeSpan OfMatching(Func<string, bool> matches)
    {
        var total = TimeSpan.Zero;
        foreach (var directory in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(directory), out var processId))
            {
                continue;
            }
            try
            {
                if (File.ReadAllText(Path.Combine(directory, "cmdline")).Replace('\0', ' ') is var commandLine && matches(commandLine))
                {
                    total += Of(processId);
                }
            }
            catch (IOException)
            {
                // Gone between listing and reading.
            }
            catch (UnauthorizedAccessException)
            {
                // Someone else's process.
            }
        }
        return total;
    }
}
