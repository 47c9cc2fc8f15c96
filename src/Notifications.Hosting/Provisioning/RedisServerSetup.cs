using System.Globalization;
using System.Net.Sockets;
using System.Text;
using Notifications.Hosting.Processes;

namespace Notifications.Hosting.Provisioning;

/// <summary>Where and how a local Redis server runs.</summary>
public sealed record RedisServerSettings(string Directory, int Port, string Password)
{
    /// <summary>Append-only persistence, so the AppHost's data survives restarts; tests turn it off.</summary>
    public bool AppendOnly { get; init; } = true;

    /// <summary>StackExchange.Redis format.</summary>
    public string ConnectionString => $"127.0.0.1:{Port.ToString(CultureInfo.InvariantCulture)},password={Password}";
}

/// <summary>Writes a local Redis configuration and describes how to run the server; pings it.</summary>
public static class RedisServerSetup
{
    public static ProcessSpec PrepareLocal(string redisServerPath, RedisServerSettings settings)
    {
        var directory = Path.GetFullPath(settings.Directory);
        Directory.CreateDirectory(directory);
        // The password lives in a 0600 file rather than on the command line, where any user could read it.
        var configFile = Path.Combine(directory, "redis.conf");
        var config = new StringBuilder()
            .AppendLine("bind 127.0.0.1")
            .AppendLine(CultureInfo.InvariantCulture, $"port {settings.Port}")
            .AppendLine("protected-mode yes")
            .AppendLine("daemonize no")
            .AppendLine(CultureInfo.InvariantCulture, $"requirepass {settings.Password}")
            .AppendLine(CultureInfo.InvariantCulture, $"dir \"{directory}\"")
            .AppendLine(CultureInfo.InvariantCulture, $"appendonly {(settings.AppendOnly ? "yes" : "no")}")
            .AppendLine("save \"\"")
            .ToString();
        File.WriteAllText(configFile, config);
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(configFile, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }
        var (fileName, arguments) = OsUser.InOwnSession(redisServerPath, [configFile]);
        return new ProcessSpec(fileName, arguments, directory) { StopSignal = NativeMethods.SigTerm };
    }

    /// <summary>AUTH then PING over RESP; true when the server answers PONG.</summary>
    public static async Task<bool> PingAsync(int port, string password, CancellationToken cancellationToken)
    {
        try
        {
            using var client = new TcpClient();
            await client.ConnectAsync("127.0.0.1", port, cancellationToken).ConfigureAwait(false);
            var stream = client.GetStream();
            var request = Encoding.UTF8.GetBytes(
                $"*2\r\n$4\r\nAUTH\r\n${Encoding.UTF8.GetByteCount(password)}\r\n{password}\r\n*1\r\n$4\r\nPING\r\n");
            await stream.WriteAsync(request, cancellationToken).ConfigureAwait(false);
            using var reader = new StreamReader(stream, Encoding.UTF8);
            var authReply = await reader.ReadLineAsync(cancellationToken).ConfigureAwait(false);
            var pingReply = await reader.ReadLineAsync(cancellationToken).ConfigureAwait(false);
            return authReply == "+OK" && pingReply == "+PONG";
        }
        catch (Exception exception) when (exception is SocketException or IOException)
        {
            return false;
        }
    }

    /// <summary>Polls PING until it answers.</summary>
    public static async Task WaitUntilAnsweringAsync(int port, string password, Task<int>? serverExited, TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var timeoutSource = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeoutSource.CancelAfter(timeout);
        try
        {
            while (true)
            {
                if (serverExited is { IsCompleted: true })
                {
                    throw new InvalidOperationException($"redis-server exited with code {await serverExited.ConfigureAwait(false)} before answering PING.");
                }

                if (await PingAsync(port, password, timeoutSource.Token).ConfigureAwait(false))
                {
                    return;
                }

                await Task.Delay(TimeSpan.FromMilliseconds(100), timeoutSource.Token).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new TimeoutException($"Redis on port {port} did not answer PING within {timeout.TotalSeconds:0} s.");
        }
    }
}
