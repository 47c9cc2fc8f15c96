using Microsoft.Extensions.Logging;

namespace Notifications.Hosting.Provisioning;

/// <summary>Finds a container runtime that actually answers; a client without an engine must fall through fast.</summary>
public sealed partial class ContainerRuntime(ILogger logger)
{
    internal static readonly string[] Candidates = ["docker", "podman"];

    /// <summary>The runtime's executable path, or <see langword="null"/> when none answers within <paramref name="timeout"/>.</summary>
    public Task<string?> FindAnsweringAsync(TimeSpan timeout, CancellationToken cancellationToken)
        => FindAnsweringAsync(Candidates.Select(CommandRunner.FindOnPath).OfType<string>(), timeout, cancellationToken);

    internal async Task<string?> FindAnsweringAsync(IEnumerable<string> executables, TimeSpan timeout, CancellationToken cancellationToken)
    {
        foreach (var executable in executables)
        {
            var info = await CommandRunner.RunAsync(executable, ["info"], timeout, cancellationToken).ConfigureAwait(false);
            if (info.ExitCode == 0)
            {
                Log.RuntimeAnswered(logger, executable);
                return executable;
            }

            Log.RuntimeNotAnswering(logger, executable, info.TimedOut ? "timed out" : $"exit code {info.ExitCode}");
        }

        return null;
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 1301, Level = LogLevel.Information, Message = "Container runtime {Runtime} answers; running infrastructure in containers")]
        public static partial void RuntimeAnswered(ILogger logger, string runtime);

        [LoggerMessage(EventId = 1302, Level = LogLevel.Information, Message = "Container runtime {Runtime} does not answer ({Reason}); using local binaries")]
        public static partial void RuntimeNotAnswering(ILogger logger, string runtime, string reason);
    }
}
