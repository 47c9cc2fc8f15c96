using Microsoft.Extensions.Options;

namespace Notifications.Hosting;

/// <summary>How the AppHost runs, bound from the <c>AppHost</c> configuration section and the command line.</summary>
public sealed class AppHostOptions
{
    public const string SectionName = "AppHost";

    /// <summary>Where data, generated passwords, ports and pids live; defaults to a per-user state directory.</summary>
    public string? StateDirectory { get; set; }

    /// <summary>Wipe the state directory (all data) before starting.</summary>
    public bool Fresh { get; set; }

    /// <summary>Ignore the fixed ports of the graph and take free ones (for tests running beside a dev instance).</summary>
    public bool RandomPorts { get; set; }

    /// <summary>Port overrides by resource name (the first endpoint of a project, or the server port).</summary>
    public Dictionary<string, int> Ports { get; set; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>May the AppHost install missing PostgreSQL/Redis with the distro's package manager when it runs as root.</summary>
    public bool InstallMissingPackages { get; set; } = true;

    /// <summary>How long a stopped process gets between its stop signal and being killed.</summary>
    public TimeSpan ShutdownGracePeriod { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>How long `docker info` / `podman info` may take before the runtime counts as not answering.</summary>
    public TimeSpan ContainerRuntimeProbeTimeout { get; set; } = TimeSpan.FromSeconds(3);

    /// <summary>The longest wait between restarts of a crashing process.</summary>
    public TimeSpan MaxRestartDelay { get; set; } = TimeSpan.FromSeconds(30);

    public string ResolveStateDirectory()
    {
        if (!string.IsNullOrWhiteSpace(StateDirectory))
        {
            return Path.GetFullPath(StateDirectory);
        }

        var stateHome = System.Environment.GetEnvironmentVariable("XDG_STATE_HOME");
        if (string.IsNullOrWhiteSpace(stateHome))
        {
            stateHome = Path.Combine(System.Environment.GetFolderPath(System.Environment.SpecialFolder.UserProfile), ".local", "state");
        }

        return Path.Combine(stateHome, "notifications-apphost");
    }
}

internal sealed class AppHostOptionsValidator : IValidateOptions<AppHostOptions>
{
    public ValidateOptionsResult Validate(string? name, AppHostOptions options)
    {
        var failures = new List<string>();
        foreach (var (resource, port) in options.Ports)
        {
            if (port is < 1 or > 65535)
            {
                failures.Add($"AppHost:Ports:{resource} must be a TCP port (1-65535), not {port}.");
            }
        }

        if (options.ShutdownGracePeriod <= TimeSpan.Zero)
        {
            failures.Add("AppHost:ShutdownGracePeriod must be positive.");
        }

        if (options.ContainerRuntimeProbeTimeout <= TimeSpan.Zero)
        {
            failures.Add("AppHost:ContainerRuntimeProbeTimeout must be positive.");
        }

        if (options.MaxRestartDelay < TimeSpan.FromSeconds(1))
        {
            failures.Add("AppHost:MaxRestartDelay must be at least one second.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}

/// <summary>The AppHost's own switches, mapped onto the <c>AppHost</c> configuration section.</summary>
public static class AppHostCommandLine
{
    public const string Fresh = "--fresh";
    public const string RandomPorts = "--random-ports";
    public const string StateDirectory = "--state-dir";

    /// <summary>Turns <c>--fresh</c>, <c>--random-ports</c>, <c>--state-dir DIR</c> into configuration switches; other arguments pass through.</summary>
    public static string[] Normalize(IReadOnlyList<string> args)
    {
        var normalized = new List<string>(args.Count);
        for (var i = 0; i < args.Count; i++)
        {
            var arg = args[i];
            if (arg == Fresh)
            {
                normalized.Add($"--{AppHostOptions.SectionName}:{nameof(AppHostOptions.Fresh)}=true");
            }
            else if (arg == RandomPorts)
            {
                normalized.Add($"--{AppHostOptions.SectionName}:{nameof(AppHostOptions.RandomPorts)}=true");
            }
            else if (arg == StateDirectory || arg.StartsWith(StateDirectory + "=", StringComparison.Ordinal))
            {
                string value;
                if (arg == StateDirectory)
                {
                    if (i + 1 >= args.Count)
                    {
                        throw new ArgumentException($"{StateDirectory} needs a directory.");
                    }

                    value = args[++i];
                }
                else
                {
                    value = arg[(StateDirectory.Length + 1)..];
                }

                normalized.Add($"--{AppHostOptions.SectionName}:{nameof(AppHostOptions.StateDirectory)}={value}");
            }
            else
            {
                normalized.Add(arg);
            }
        }

        return [.. normalized];
    }
}
