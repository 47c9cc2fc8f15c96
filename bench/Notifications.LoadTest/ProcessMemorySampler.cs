using System.Globalization;

namespace Notifications.LoadTest;

internal sealed record MemorySummary(double PeakMegabytes, double MeanMegabytes);

/// <summary>Samples a process's resident set size (<c>VmRSS</c> in <c>/proc/{pid}/status</c>) every 250 ms.</summary>
internal sealed class ProcessMemorySampler : IDisposable
{
    private static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(250);
    private readonly List<long> _samplesKilobytes = [];
    private readonly Timer _timer;
    private readonly string _statusFile;

    private ProcessMemorySampler(int processId)
    {
        _statusFile = $"/proc/{processId}/status";
        _timer = new Timer(_ => Sample(), null, TimeSpan.Zero, Interval);
    }

    public static ProcessMemorySampler Start(int processId) => new(processId);

    public MemorySummary? Stop()
    {
        _timer.Dispose();
        lock (_samplesKilobytes)
        {
            return _samplesKilobytes.Count == 0
                ? null
                : new MemorySummary(_samplesKilobytes.Max() / 1024.0, _samplesKilobytes.Average() / 1024.0);
        }
    }

    public void Dispose() => _timer.Dispose();

    private void Sample()
    {
        try
        {
            var line = File.ReadLines(_statusFile).FirstOrDefault(text => text.StartsWith("VmRSS:", StringComparison.Ordinal));
            if (line is not null && long.TryParse(line["VmRSS:".Length..].Trim().Split(' ')[0], NumberStyles.Integer, CultureInfo.InvariantCulture, out var kilobytes))
            {
                lock (_samplesKilobytes)
                {
                    _samplesKilobytes.Add(kilobytes);
                }
            }
        }
        catch (IOException)
        {
            // The process went away between samples; the summary covers what was seen.
        }
    }
}
