using System.Globalization;
using Notifications.Hosting.Processes;
using Notifications.Hosting.Provisioning;

namespace Notifications.Hosting.Orchestration;

/// <summary>
/// Runs Postgres/Redis through docker or podman in the foreground (--rm, attached), so the supervisor treats
/// the container like any child: its output is prefixed, and the stop signal is proxied to the container.
/// </summary>
internal static class ContainerSpecs
{
    private const string PostgresImage = "docker.io/library/postgres:17";
    private const string RedisImage = "docker.io/library/redis:7";

    public static ProcessSpec Postgres(string runtime, string resourceName, PostgresServerSettings settings, string volumeDirectory)
    {
        Directory.CreateDirectory(volumeDirectory);
        string[] arguments =
        [
            "run", "--rm", "--name", ContainerName(resourceName, settings.Port),
            "-p", $"127.0.0.1:{settings.Port.ToString(CultureInfo.InvariantCulture)}:5432",
            // Without a value, -e passes the variable from our environment, keeping the password off the command line.
            "-e", "POSTGRES_PASSWORD",
            "-e", "POSTGRES_INITDB_ARGS=--auth-host=scram-sha-256",
            "-v", $"{volumeDirectory}:/var/lib/postgresql/data",
            PostgresImage,
        ];
        var (fileName, wrapped) = OsUser.InOwnSession(runtime, arguments);
        return new ProcessSpec(fileName, wrapped, volumeDirectory)
        {
            Environment = new Dictionary<string, string?> { ["POSTGRES_PASSWORD"] = settings.Password },
            StopSignal = NativeMethods.SigInt,
        };
    }

    public static ProcessSpec Redis(string runtime, string resourceName, RedisServerSettings settings, string volumeDirectory)
    {
        Directory.CreateDirectory(volumeDirectory);
        string[] arguments =
        [
            "run", "--rm", "--name", ContainerName(resourceName, settings.Port),
            "-p", $"127.0.0.1:{settings.Port.ToString(CultureInfo.InvariantCulture)}:6379",
            "-e", "REDIS_PASSWORD",
            "-v", $"{volumeDirectory}:/data",
            "--entrypoint", "/bin/sh",
            RedisImage,
            "-c", "exec redis-server --appendonly yes --requirepass \"$REDIS_PASSWORD\"",
        ];
        var (fileName, wrapped) = OsUser.InOwnSession(runtime, arguments);
        return new ProcessSpec(fileName, wrapped, volumeDirectory)
        {
            Environment = new Dictionary<string, string?> { ["REDIS_PASSWORD"] = settings.Password },
            StopSignal = NativeMethods.SigTerm,
        };
    }

    private static string ContainerName(string resourceName, int port) => $"notifications-{resourceName}-{port.ToString(CultureInfo.InvariantCulture)}";
}
