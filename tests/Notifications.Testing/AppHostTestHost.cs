using System.Diagnostics;
using System.Text.Json;
using Notifications.Hosting;
using Notifications.Hosting.Processes;
using Xunit;

namespace Notifications.Testing;

/// <summary>
/// Runs the whole AppHost graph for tests, in the spirit of Aspire.Hosting.Testing: the built AppHost runs as a
/// process with <c>--state-dir &lt;temp&gt; --random-ports</c>; once every resource is healthy it writes
/// <c>endpoints.json</c>, which this host reads to hand out HTTP clients and connection strings. Running the real
/// executable (rather than the graph in-process) tests exactly what <c>dotnet run</c> runs, including its signal
/// handling: <see cref="InterruptAsync"/> sends SIGINT like Ctrl+C. The services the AppHost starts inherit its
/// environment, so <see cref="WithEnvironment"/> configures them (e.g. <c>Email__Quota__DailyLimit</c>).
/// </summary>
public sealed class AppHostTestHost : IAsyncLifetime
{
    private const string DefaultAppHostMetadataType = "Projects.Notifications_AppHost";
    private static readonly TimeSpan StartTimeout = TimeSpan.FromMinutes(4);
    private static readonly TimeSpan StopTimeout = TimeSpan.FromMinutes(2);
    private readonly IProjectMetadata _appHost;
    private readonly IReadOnlyDictionary<string, string> _environment;
    private readonly Queue<string> _output = new();
    private string? _stateDirectory;
    private Process? _process;
    private AppHostEndpoints? _endpoints;

    /// <summary>Runs the AppHost whose generated <c>Projects.Notifications_AppHost</c> metadata the test assembly carries.</summary>
    public AppHostTestHost()
        : this(FindAppHostMetadata(), new Dictionary<string, string>())
    {
    }

    private AppHostTestHost(IProjectMetadata appHost, IReadOnlyDictionary<string, string> environment)
    {
        _appHost = appHost;
        _environment = environment;
    }

    /// <summary>Runs a given AppHost (xunit fixtures may have one public constructor, so this is a factory).</summary>
    public static AppHostTestHost For(IProjectMetadata appHost) => new(appHost, new Dictionary<string, string>());

    /// <summary>
    /// Runs the test assembly's AppHost with these environment variables added to its own, which every service it
    /// starts inherits: configuration in environment form, e.g. <c>Scheduler__StuckJobs__Threshold=00:01:00</c>.
    /// </summary>
    public static AppHostTestHost WithEnvironment(IReadOnlyDictionary<string, string> environment) => new(FindAppHostMetadata(), environment);

    /// <summary>Everything the AppHost reported once healthy: pids, endpoints and connection strings by resource name.</summary>
    public AppHostEndpoints Endpoints => _endpoints ?? throw new InvalidOperationException("The AppHost has not started.");

    public int AppHostProcessId => _process?.Id ?? throw new InvalidOperationException("The AppHost has not started.");

    public string StateDirectory => _stateDirectory ?? throw new InvalidOperationException("The AppHost has not started.");

    /// <summary>The last lines the AppHost and its children printed, for failure messages.</summary>
    public string Output
    {
        get
        {
            lock (_output)
            {
                return string.Join(Environment.NewLine, _output);
            }
        }
    }

    public async ValueTask InitializeAsync()
    {
        _stateDirectory = TestDirectory.Create("apphost");
        var startInfo = new ProcessStartInfo(Notifications.Hosting.Orchestration.DotnetHost.Path)
        {
            WorkingDirectory = Path.GetDirectoryName(_appHost.ProjectPath)!,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (var argument in new[] { "exec", _appHost.AssemblyPath, AppHostCommandLine.StateDirectory, _stateDirectory, AppHostCommandLine.RandomPorts })
        {
            startInfo.ArgumentList.Add(argument);
        }

        startInfo.Environment["DOTNET_ENVIRONMENT"] = "Development";
        foreach (var (name, value) in _environment)
        {
            startInfo.Environment[name] = value;
        }

        _process = new Process { StartInfo = startInfo };
        _process.OutputDataReceived += (_, e) => Remember(e.Data);
        _process.ErrorDataReceived += (_, e) => Remember(e.Data);
        _process.Start();
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();

        var endpointsFile = Path.Combine(_stateDirectory, "endpoints.json");
        using var timeout = new CancellationTokenSource(StartTimeout);
        while (!File.Exists(endpointsFile))
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"The AppHost exited with code {_process.ExitCode} before all resources were healthy:{Environment.NewLine}{Output}");
            }

            if (timeout.IsCancellationRequested)
            {
                throw new TimeoutException($"The AppHost did not report all resources healthy within {StartTimeout.TotalMinutes} min:{Environment.NewLine}{Output}");
            }

            await Task.Delay(TimeSpan.FromMilliseconds(200));
        }

        await ReloadEndpointsAsync();
    }

    /// <summary>
    /// Reads <c>endpoints.json</c> again: the AppHost rewrites it when it restarts a crashed process, so this is how a
    /// test learns the new process id.
    /// </summary>
    public async Task<AppHostEndpoints> ReloadEndpointsAsync()
    {
        var endpointsFile = Path.Combine(StateDirectory, "endpoints.json");
        _endpoints = JsonSerializer.Deserialize<AppHostEndpoints>(await File.ReadAllTextAsync(endpointsFile), new JsonSerializerOptions(JsonSerializerDefaults.Web))
            ?? throw new InvalidOperationException($"{endpointsFile} is empty.");
        return _endpoints;
    }

    /// <summary>An HTTP client whose base address is the resource's endpoint (e.g. <c>CreateHttpClient("api")</c>).</summary>
    public HttpClient CreateHttpClient(string resourceName, string endpointName = "http")
    {
        var resource = GetResource(resourceName);
        if (resource.Endpoints?.TryGetValue(endpointName, out var url) != true)
        {
            throw new ArgumentException($"Resource '{resourceName}' has no endpoint '{endpointName}'.", nameof(endpointName));
        }

        return new HttpClient { BaseAddress = new Uri(url!) };
    }

    /// <summary>The connection string of a database, Redis or Postgres server resource (e.g. <c>"notificationsdb"</c>).</summary>
    public string GetConnectionString(string resourceName)
        => GetResource(resourceName).ConnectionString ?? throw new ArgumentException($"Resource '{resourceName}' has no connection string.", nameof(resourceName));

    public ResourceSnapshot GetResource(string resourceName)
        => Endpoints.Resources.TryGetValue(resourceName, out var resource)
            ? resource
            : throw new ArgumentException($"The AppHost has no resource '{resourceName}'.", nameof(resourceName));

    /// <summary>Sends SIGINT (Ctrl+C) to the AppHost and waits for it to exit; returns its exit code.</summary>
    public Task<int> InterruptAsync() => StopAsync(NativeMethods.SigInt, "SIGINT");

    private async Task<int> StopAsync(int signal, string signalName)
    {
        var process = _process ?? throw new InvalidOperationException("The AppHost has not started.");
        if (!process.HasExited)
        {
            NativeMethods.SendSignal(process.Id, signal);
            using var timeout = new CancellationTokenSource(StopTimeout);
            try
            {
                await process.WaitForExitAsync(timeout.Token);
            }
            catch (OperationCanceledException)
            {
                throw new TimeoutException($"The AppHost did not stop within {StopTimeout.TotalMinutes} min of {signalName}:{Environment.NewLine}{Output}");
            }
        }

        return process.ExitCode;
    }

    public async ValueTask DisposeAsync()
    {
        if (_process is not null)
        {
            try
            {
                // SIGTERM, not SIGINT: a test run started from a background shell inherits SIGINT as ignored, and .NET keeps it so.
                await StopAsync(NativeMethods.SigTerm, "SIGTERM");
            }
            catch (TimeoutException)
            {
                _process.Kill(entireProcessTree: true);
            }

            _process.Dispose();
        }

        if (_stateDirectory is not null)
        {
            TestDirectory.Delete(_stateDirectory);
        }
    }

    private void Remember(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_output)
        {
            _output.Enqueue(line);
            while (_output.Count > 400)
            {
                _output.Dequeue();
            }
        }
    }

    private static IProjectMetadata FindAppHostMetadata()
    {
        var type = AppDomain.CurrentDomain.GetAssemblies()
            .Select(assembly => assembly.GetType(DefaultAppHostMetadataType, throwOnError: false))
            .FirstOrDefault(candidate => candidate is not null && typeof(IProjectMetadata).IsAssignableFrom(candidate))
            ?? throw new InvalidOperationException(
                $"No {DefaultAppHostMetadataType} found. Reference the AppHost from the test project with " +
                "ReferenceOutputAssembly=\"false\" AppHostResource=\"true\" and import Notifications.Hosting.ProjectMetadata.targets, or use AppHostTestHost.For(metadata).");
        return (IProjectMetadata)Activator.CreateInstance(type)!;
    }
}
