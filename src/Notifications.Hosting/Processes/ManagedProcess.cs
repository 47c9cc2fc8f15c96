using System.Diagnostics;

namespace Notifications.Hosting.Processes;

/// <summary>One child process: output forwarded with the resource prefix, stopped with a signal then a kill.</summary>
public sealed class ManagedProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly Task<int> _exited;

    private ManagedProcess(Process process)
    {
        _process = process;
        // Read once while the process object is alive: callers log it after the process has exited and been disposed.
        Id = process.Id;
        _exited = WaitForExitCodeAsync(process);
    }

    public int Id { get; }

    /// <summary>Completes with the exit code once the process has exited and its output is drained.</summary>
    public Task<int> Exited => _exited;

    public static ManagedProcess Start(string resourceName, ProcessSpec spec, ResourceOutput output)
    {
        var startInfo = new ProcessStartInfo(spec.FileName)
        {
            WorkingDirectory = spec.WorkingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (var argument in spec.Arguments)
        {
            startInfo.ArgumentList.Add(argument);
        }

        foreach (var (name, value) in spec.Environment)
        {
            startInfo.Environment[name] = value;
        }

        var process = new Process { StartInfo = startInfo, EnableRaisingEvents = true };
        process.OutputDataReceived += (_, e) => Forward(e.Data);
        process.ErrorDataReceived += (_, e) => Forward(e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return new ManagedProcess(process);

        void Forward(string? line)
        {
            if (line is not null)
            {
                output.WriteLine(resourceName, line);
            }
        }
    }

    /// <summary>Sends <paramref name="signal"/>, waits up to <paramref name="gracePeriod"/>, then kills the whole tree.</summary>
    public async Task<int> StopAsync(int signal, TimeSpan gracePeriod)
    {
        if (!_exited.IsCompleted)
        {
            NativeMethods.SendSignal(Id, signal);
            try
            {
                await _exited.WaitAsync(gracePeriod).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                Kill();
            }
        }

        return await _exited.ConfigureAwait(false);
    }

    public void Kill()
    {
        try
        {
            _process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
            // Already exited between the check and the kill.
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (!_exited.IsCompleted)
        {
            Kill();
            await _exited.ConfigureAwait(false);
        }

        _process.Dispose();
    }

    private static async Task<int> WaitForExitCodeAsync(Process process)
    {
        await process.WaitForExitAsync().ConfigureAwait(false);
        return process.ExitCode;
    }
}
