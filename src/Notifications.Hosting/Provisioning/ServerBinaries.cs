using Microsoft.Extensions.Logging;

namespace Notifications.Hosting.Provisioning;

/// <summary>
/// Finds PostgreSQL and Redis server binaries on this machine: PATH first, then Debian's
/// /usr/lib/postgresql/&lt;version&gt;/bin (newest first); when missing, installs the distro package if allowed
/// (Debian/Ubuntu, as root), else fails naming what to install.
/// </summary>
public sealed partial class ServerBinaries(ILogger logger, bool allowPackageInstall)
{
    private const string PostgresPackage = "postgresql";
    private const string RedisPackage = "redis-server";
    private static readonly SemaphoreSlim PackageManagerLock = new(1, 1);

    /// <summary>The directory holding <c>initdb</c> and <c>postgres</c>.</summary>
    public async Task<string> ResolvePostgresBinDirectoryAsync(CancellationToken cancellationToken)
    {
        if (FindPostgresBinDirectory() is { } found)
        {
            return found;
        }

        if (await TryInstallPackageAsync(PostgresPackage, cancellationToken).ConfigureAwait(false) && FindPostgresBinDirectory() is { } installed)
        {
            return installed;
        }

        throw new InvalidOperationException(
            "PostgreSQL server binaries (initdb, postgres) were not found on PATH or under /usr/lib/postgresql/*/bin, and no container runtime answered. " +
            "Install PostgreSQL (Debian/Ubuntu: sudo apt-get install postgresql), start Docker or Podman, or set ConnectionStrings:<name> to an existing server.");
    }

    /// <summary>The full path of <c>redis-server</c>.</summary>
    public async Task<string> ResolveRedisServerAsync(CancellationToken cancellationToken)
    {
        if (FindRedisServer() is { } found)
        {
            return found;
        }

        if (await TryInstallPackageAsync(RedisPackage, cancellationToken).ConfigureAwait(false) && FindRedisServer() is { } installed)
        {
            return installed;
        }

        throw new InvalidOperationException(
            "redis-server was not found on PATH and no container runtime answered. " +
            "Install Redis (Debian/Ubuntu: sudo apt-get install redis-server), start Docker or Podman, or set ConnectionStrings:<name> to an existing server.");
    }

    internal static string? FindPostgresBinDirectory()
    {
        if (CommandRunner.FindOnPath("initdb") is { } initdb
            && Path.GetDirectoryName(initdb) is { } directory
            && File.Exists(Path.Combine(directory, "postgres")))
        {
            return directory;
        }

        const string debianRoot = "/usr/lib/postgresql";
        if (!Directory.Exists(debianRoot))
        {
            return null;
        }

        return Directory.EnumerateDirectories(debianRoot)
            .Select(versionDirectory => (Version: ParseMajorVersion(Path.GetFileName(versionDirectory)), Bin: Path.Combine(versionDirectory, "bin")))
            .Where(candidate => candidate.Version is not null
                && File.Exists(Path.Combine(candidate.Bin, "initdb"))
                && File.Exists(Path.Combine(candidate.Bin, "postgres")))
            .OrderByDescending(candidate => candidate.Version)
            .Select(candidate => candidate.Bin)
            .FirstOrDefault();
    }

    private static string? FindRedisServer() => CommandRunner.FindOnPath("redis-server");

    private static Version? ParseMajorVersion(string name)
        => Version.TryParse(name.Contains('.', StringComparison.Ordinal) ? name : name + ".0", out var version) ? version : null;

    private async Task<bool> TryInstallPackageAsync(string package, CancellationToken cancellationToken)
    {
        if (!allowPackageInstall || !OperatingSystem.IsLinux() || !OsUser.IsRoot
            || !File.Exists("/etc/debian_version") || CommandRunner.FindOnPath("apt-get") is not { } aptGet)
        {
            return false;
        }

        await PackageManagerLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            Log.InstallingPackage(logger, package);
            var environment = new Dictionary<string, string> { ["DEBIAN_FRONTEND"] = "noninteractive" };
            var install = await RunAptAsync(aptGet, ["install", "-y", "--no-install-recommends", package], environment, cancellationToken).ConfigureAwait(false);
            if (install.ExitCode != 0)
            {
                // A fresh image often has no package lists yet.
                await RunAptAsync(aptGet, ["update"], environment, cancellationToken).ConfigureAwait(false);
                install = await RunAptAsync(aptGet, ["install", "-y", "--no-install-recommends", package], environment, cancellationToken).ConfigureAwait(false);
            }

            if (install.ExitCode != 0)
            {
                Log.PackageInstallFailed(logger, package, install.ExitCode);
                return false;
            }

            Log.PackageInstalled(logger, package);
            return true;
        }
        finally
        {
            PackageManagerLock.Release();
        }
    }

    private Task<CommandRunner.Result> RunAptAsync(
        string aptGet, string[] arguments, IReadOnlyDictionary<string, string> environment, CancellationToken cancellationToken)
        => CommandRunner.RunAsync(aptGet, arguments, TimeSpan.FromMinutes(10), cancellationToken, environment: environment,
            onLine: line => Log.PackageManagerOutput(logger, line));

    private static partial class Log
    {
        [LoggerMessage(EventId = 1201, Level = LogLevel.Warning, Message = "{Package} is not installed: installing it with apt-get (running as root on Debian/Ubuntu)")]
        public static partial void InstallingPackage(ILogger logger, string package);

        [LoggerMessage(EventId = 1202, Level = LogLevel.Information, Message = "Installed {Package}")]
        public static partial void PackageInstalled(ILogger logger, string package);

        [LoggerMessage(EventId = 1203, Level = LogLevel.Error, Message = "apt-get could not install {Package} (exit code {ExitCode})")]
        public static partial void PackageInstallFailed(ILogger logger, string package, int exitCode);

        [LoggerMessage(EventId = 1204, Level = LogLevel.Debug, Message = "apt-get: {Line}")]
        public static partial void PackageManagerOutput(ILogger logger, string line);
    }
}
