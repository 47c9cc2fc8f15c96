using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Notifications.Hosting.Provisioning;

namespace Notifications.Hosting.Orchestration;

/// <summary>Generated secrets and chosen ports of one infrastructure resource, kept so a restart reuses them.</summary>
internal sealed record ResourceState(int Port, string Password);

/// <summary>A process the AppHost started; the start time tells a live child from an unrelated process that reused the pid.</summary>
internal sealed record RecordedProcess(string Resource, int ProcessId, long StartTicks);

/// <summary>
/// The AppHost's state directory: data of Postgres and Redis, generated passwords and ports (apphost-state.json),
/// the pids of running children (processes.json) and, while running, the endpoints file. An exclusive lock file
/// keeps two AppHosts off the same directory.
/// </summary>
internal sealed class AppHostStateStore : IDisposable
{
    public const string EndpointsFileName = "endpoints.json";
    private const string LockFileName = "apphost.lock";
    private const string StateFileName = "apphost-state.json";
    private const string ProcessesFileName = "processes.json";
    private const string RootPostgresDataRoot = "/var/lib/notifications-apphost";
    private static readonly JsonSerializerOptions JsonOptions = new(JsonSerializerDefaults.Web)
    {
        WriteIndented = true,
        DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull,
    };
    private readonly Lock _gate = new();
    private readonly Dictionary<string, ResourceState> _resources;
    private readonly List<RecordedProcess> _processes = [];
    private FileStream? _lock;

    private AppHostStateStore(string directory, FileStream lockFile)
    {
        Directory = directory;
        _lock = lockFile;
        _resources = ReadJson<Dictionary<string, ResourceState>>(StateFileName) ?? new(StringComparer.OrdinalIgnoreCase);
    }

    public string Directory { get; }

    public string EndpointsFile => Path.Combine(Directory, EndpointsFileName);

    /// <summary>Opens the directory, taking its lock; fails when another AppHost holds it.</summary>
    public static AppHostStateStore Open(string directory)
    {
        System.IO.Directory.CreateDirectory(directory);
        try
        {
            var lockFile = new FileStream(Path.Combine(directory, LockFileName), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            return new AppHostStateStore(directory, lockFile);
        }
        catch (IOException exception)
        {
            throw new InvalidOperationException(
                $"Another AppHost is running with the state directory {directory}. Stop it, or pass --state-dir with another directory.", exception);
        }
    }

    /// <summary>
    /// Postgres data lives in the state directory, except when we are root and the 'postgres' user cannot reach
    /// it (e.g. under /root): then under /var/lib/notifications-apphost/&lt;hash of the state directory&gt;.
    /// </summary>
    public string PostgresDataDirectory(string resourceName)
        => Path.Combine(PostgresRoot(), resourceName, "data");

    public string ResourceDirectory(string resourceName) => Path.Combine(Directory, resourceName);

    public ResourceState GetOrCreate(string resourceName, Func<ResourceState> create)
    {
        lock (_gate)
        {
            if (!_resources.TryGetValue(resourceName, out var state))
            {
                state = create();
                _resources[resourceName] = state;
                WriteJson(StateFileName, _resources);
            }

            return state;
        }
    }

    public void Update(string resourceName, ResourceState state)
    {
        lock (_gate)
        {
            _resources[resourceName] = state;
            WriteJson(StateFileName, _resources);
        }
    }

    public IReadOnlyList<RecordedProcess> ReadRecordedProcesses()
        => ReadJson<List<RecordedProcess>>(ProcessesFileName) ?? [];

    public void RecordProcess(string resourceName, int processId)
    {
        lock (_gate)
        {
            _processes.RemoveAll(process => process.Resource == resourceName);
            _processes.Add(new RecordedProcess(resourceName, processId, ProcessIdentity.GetStartTicks(processId) ?? 0));
            WriteJson(ProcessesFileName, _processes);
        }
    }

    public void ClearRecordedProcesses()
    {
        lock (_gate)
        {
            _processes.Clear();
            File.Delete(Path.Combine(Directory, ProcessesFileName));
        }
    }

    /// <summary>Deletes all data, passwords and ports (everything but the lock we hold).</summary>
    public void Wipe()
    {
        lock (_gate)
        {
            var postgresRoot = PostgresRoot();
            if (postgresRoot != Directory && System.IO.Directory.Exists(postgresRoot))
            {
                System.IO.Directory.Delete(postgresRoot, recursive: true);
            }

            foreach (var entry in new DirectoryInfo(Directory).EnumerateFileSystemInfos())
            {
                if (entry.Name == LockFileName)
                {
                    continue;
                }

                if (entry is DirectoryInfo directory)
                {
                    directory.Delete(recursive: true);
                }
                else
                {
                    entry.Delete();
                }
            }

            _resources.Clear();
            _processes.Clear();
        }
    }

    public void WriteEndpoints(AppHostEndpoints endpoints) => WriteJson(EndpointsFileName, endpoints);

    public void DeleteEndpoints() => File.Delete(EndpointsFile);

    public void Dispose()
    {
        _lock?.Dispose();
        _lock = null;
    }

    private string PostgresRoot()
    {
        if (!OsUser.IsRoot || OsUser.IsTraversableByOthers(Directory))
        {
            return Directory;
        }

        var hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(Directory)))[..16];
        return Path.Combine(RootPostgresDataRoot, hash);
    }

    private T? ReadJson<T>(string fileName)
    {
        var path = Path.Combine(Directory, fileName);
        return File.Exists(path) ? JsonSerializer.Deserialize<T>(File.ReadAllText(path), JsonOptions) : default;
    }

    /// <summary>Writes via a temporary file and a rename, so readers never see half a file; 0600 because of passwords.</summary>
    private void WriteJson<T>(string fileName, T value)
    {
        var path = Path.Combine(Directory, fileName);
        var temporary = path + ".tmp";
        File.WriteAllText(temporary, JsonSerializer.Serialize(value, JsonOptions));
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(temporary, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }
        File.Move(temporary, path, overwrite: true);
    }
}
