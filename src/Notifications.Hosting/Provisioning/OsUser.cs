using Notifications.Hosting.Processes;

namespace Notifications.Hosting.Provisioning;

/// <summary>Runs commands as the <c>postgres</c> OS user when we are root, because PostgreSQL refuses to run as root.</summary>
internal static class OsUser
{
    public const string PostgresUser = "postgres";

    public static bool IsRoot => NativeMethods.IsRoot;

    /// <summary>
    /// Wraps a command so it runs as <see cref="PostgresUser"/>. setpriv exec()s in place (the pid we hold is
    /// postgres itself, so signals reach it); runuser is the fallback.
    /// </summary>
    public static (string FileName, IReadOnlyList<string> Arguments) AsPostgresUser(string fileName, IEnumerable<string> arguments)
    {
        if (CommandRunner.FindOnPath("setpriv") is { } setpriv)
        {
            return (setpriv, ["--reuid=" + PostgresUser, "--regid=" + PostgresUser, "--init-groups", "--", fileName, .. arguments]);
        }

        if (CommandRunner.FindOnPath("runuser") is { } runuser)
        {
            return (runuser, ["-u", PostgresUser, "--", fileName, .. arguments]);
        }

        throw new InvalidOperationException(
            "PostgreSQL refuses to run as root and neither setpriv nor runuser (util-linux) is installed to switch to the 'postgres' user. " +
            "Install util-linux, or run the AppHost as a normal user.");
    }

    /// <summary>
    /// Puts the process in its own session, so a Ctrl+C in the terminal reaches only the AppHost, which then stops
    /// the children in order. util-linux's setsid exec()s in place when the caller is not a group leader.
    /// </summary>
    public static (string FileName, IReadOnlyList<string> Arguments) InOwnSession(string fileName, IReadOnlyList<string> arguments)
        => OperatingSystem.IsLinux() && CommandRunner.FindOnPath("setsid") is { } setsid
            ? (setsid, [fileName, .. arguments])
            : (fileName, arguments);

    public static async Task EnsurePostgresUserExistsAsync(CancellationToken cancellationToken)
    {
        var id = await CommandRunner.RunAsync("id", ["-u", PostgresUser], TimeSpan.FromSeconds(10), cancellationToken).ConfigureAwait(false);
        if (id.ExitCode != 0)
        {
            throw new InvalidOperationException(
                "PostgreSQL refuses to run as root and there is no 'postgres' OS user to run it as. " +
                "Create one (useradd --system --home-dir /var/lib/postgresql postgres) or run the AppHost as a normal user.");
        }
    }

    public static async Task GiveToPostgresUserAsync(string path, CancellationToken cancellationToken)
    {
        var chown = await CommandRunner.RunAsync("chown", ["-R", $"{PostgresUser}:{PostgresUser}", path], TimeSpan.FromMinutes(1), cancellationToken)
            .ConfigureAwait(false);
        if (chown.ExitCode != 0)
        {
            throw new InvalidOperationException($"Could not give {path} to the '{PostgresUser}' user: {chown.Output}");
        }
    }

    /// <summary>Whether a user other than root can reach <paramref name="directory"/> (every ancestor searchable by others).</summary>
    public static bool IsTraversableByOthers(string directory)
    {
        if (OperatingSystem.IsWindows())
        {
            return true;
        }

        for (var current = new DirectoryInfo(Path.GetFullPath(directory)); current is not null; current = current.Parent)
        {
            if (current.Exists && !current.UnixFileMode.HasFlag(UnixFileMode.OtherExecute))
            {
                return false;
            }
        }

        return true;
    }
}
