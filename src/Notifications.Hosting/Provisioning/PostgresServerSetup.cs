using Notifications.Hosting.Processes;
using Npgsql;

namespace Notifications.Hosting.Provisioning;

/// <summary>Where and how a local PostgreSQL server runs.</summary>
public sealed record PostgresServerSettings(string DataDirectory, int Port, string Password)
{
    /// <summary>Extra server parameters passed as <c>-c name=value</c> (tests turn durability off for speed).</summary>
    public IReadOnlyDictionary<string, string> ServerParameters { get; init; } = new Dictionary<string, string>();

    public string AdminConnectionString => ConnectionStringFor("postgres");

    public string ConnectionStringFor(string database) => new NpgsqlConnectionStringBuilder
    {
        Host = "127.0.0.1",
        Port = Port,
        Username = PostgresServerResource.SuperuserName,
        Password = Password,
        Database = database,
    }.ConnectionString;
}

/// <summary>Initialises and describes a local PostgreSQL server, as the <c>postgres</c> OS user when we are root.</summary>
public static class PostgresServerSetup
{
    /// <summary>Server parameters that trade durability for speed; for tests only.</summary>
    public static IReadOnlyDictionary<string, string> FastUnsafeTestParameters { get; } = new Dictionary<string, string>
    {
        ["fsync"] = "off",
        ["synchronous_commit"] = "off",
        ["full_page_writes"] = "off",
    };

    /// <summary>Runs initdb (scram-sha-256, the given superuser password) unless the data directory is initialised, and returns how to run the server.</summary>
    public static async Task<ProcessSpec> PrepareLocalAsync(string binDirectory, PostgresServerSettings settings, CancellationToken cancellationToken)
    {
        var dataDirectory = Path.GetFullPath(settings.DataDirectory);
        var parent = Path.GetDirectoryName(dataDirectory) ?? throw new ArgumentException("The data directory needs a parent directory.", nameof(settings));
        Directory.CreateDirectory(parent);
        var runAsPostgresUser = OsUser.IsRoot;
        if (runAsPostgresUser)
        {
            await OsUser.EnsurePostgresUserExistsAsync(cancellationToken).ConfigureAwait(false);
            if (!OsUser.IsTraversableByOthers(parent))
            {
                throw new InvalidOperationException(
                    $"The 'postgres' user cannot reach {parent} (a parent directory is not searchable by others). Use a data directory outside it.");
            }
        }

        if (!File.Exists(Path.Combine(dataDirectory, "PG_VERSION")))
        {
            await InitializeAsync(binDirectory, dataDirectory, parent, settings.Password, runAsPostgresUser, cancellationToken).ConfigureAwait(false);
        }

        List<string> arguments =
        [
            "-D", dataDirectory,
            "-p", settings.Port.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "-c", "listen_addresses=127.0.0.1",
            // TCP only: no socket file in /var/run/postgresql to collide with a system cluster or need permissions.
            "-c", "unix_socket_directories=",
        ];
        foreach (var (name, value) in settings.ServerParameters)
        {
            arguments.Add("-c");
            arguments.Add($"{name}={value}");
        }

        var postgres = Path.Combine(binDirectory, "postgres");
        var (fileName, wrappedArguments) = runAsPostgresUser ? OsUser.AsPostgresUser(postgres, arguments) : (postgres, arguments);
        (fileName, wrappedArguments) = OsUser.InOwnSession(fileName, wrappedArguments);
        return new ProcessSpec(fileName, wrappedArguments, dataDirectory) { StopSignal = NativeMethods.SigInt };
    }

    /// <summary>Polls until the server accepts a connection to <paramref name="connectionString"/>'s database.</summary>
    public static async Task WaitUntilAcceptingConnectionsAsync(
        string connectionString, Task<int>? serverExited, TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var timeoutSource = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeoutSource.CancelAfter(timeout);
        var builder = new NpgsqlConnectionStringBuilder(connectionString) { Pooling = false, Timeout = 5 };
        Exception? lastError = null;
        while (!timeoutSource.IsCancellationRequested)
        {
            if (serverExited is { IsCompleted: true })
            {
                throw new InvalidOperationException($"PostgreSQL exited with code {await serverExited.ConfigureAwait(false)} before accepting connections.");
            }

            try
            {
                await using var connection = new NpgsqlConnection(builder.ConnectionString);
                await connection.OpenAsync(timeoutSource.Token).ConfigureAwait(false);
                await using var command = new NpgsqlCommand("SELECT 1", connection);
                await command.ExecuteScalarAsync(timeoutSource.Token).ConfigureAwait(false);
                return;
            }
            catch (Exception exception) when (exception is NpgsqlException or System.Net.Sockets.SocketException or TimeoutException
                || (exception is OperationCanceledException && !cancellationToken.IsCancellationRequested))
            {
                lastError = exception;
            }

            try
            {
                await Task.Delay(TimeSpan.FromMilliseconds(200), timeoutSource.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                break;
            }
        }

        cancellationToken.ThrowIfCancellationRequested();
        throw new TimeoutException($"PostgreSQL did not accept connections within {timeout.TotalSeconds:0} s: {lastError?.Message}", lastError);
    }

    /// <summary>Creates <paramref name="database"/> unless it exists.</summary>
    public static async Task CreateDatabaseIfMissingAsync(string adminConnectionString, string database, CancellationToken cancellationToken)
    {
        await using var connection = new NpgsqlConnection(adminConnectionString);
        await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using (var exists = new NpgsqlCommand("SELECT 1 FROM pg_database WHERE datname = @name", connection))
        {
            exists.Parameters.AddWithValue("name", database);
            if (await exists.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) is not null)
            {
                return;
            }
        }

        await using var create = new NpgsqlCommand($"CREATE DATABASE {QuoteIdentifier(database)}", connection);
        await create.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    internal static string QuoteIdentifier(string identifier) => "\"" + identifier.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";

    private static async Task InitializeAsync(
        string binDirectory, string dataDirectory, string parent, string password, bool runAsPostgresUser, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(dataDirectory);
        // initdb reads the superuser password from a file so it never appears in a process list.
        var passwordFile = Path.Combine(parent, $".pwfile-{Guid.NewGuid():N}");
        await File.WriteAllTextAsync(passwordFile, password, cancellationToken).ConfigureAwait(false);
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(passwordFile, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }
        try
        {
            if (runAsPostgresUser)
            {
                await OsUser.GiveToPostgresUserAsync(dataDirectory, cancellationToken).ConfigureAwait(false);
                await OsUser.GiveToPostgresUserAsync(passwordFile, cancellationToken).ConfigureAwait(false);
            }

            var initdb = Path.Combine(binDirectory, "initdb");
            string[] arguments =
            [
                "-D", dataDirectory,
                "-U", PostgresServerResource.SuperuserName,
                "--pwfile=" + passwordFile,
                "--auth-host=scram-sha-256",
                "--auth-local=scram-sha-256",
                "--encoding=UTF8",
                "--locale=C",
                "--no-instructions",
            ];
            var (fileName, wrappedArguments) = runAsPostgresUser ? OsUser.AsPostgresUser(initdb, arguments) : (initdb, arguments);
            var result = await CommandRunner.RunAsync(fileName, wrappedArguments, TimeSpan.FromMinutes(2), cancellationToken, workingDirectory: parent)
                .ConfigureAwait(false);
            if (result.ExitCode != 0)
            {
                // Leave no half-initialised directory behind: the next start would refuse it.
                Directory.Delete(dataDirectory, recursive: true);
                throw new InvalidOperationException($"initdb failed with exit code {result.ExitCode}:{Environment.NewLine}{result.Output}");
            }
        }
        finally
        {
            File.Delete(passwordFile);
        }
    }
}
