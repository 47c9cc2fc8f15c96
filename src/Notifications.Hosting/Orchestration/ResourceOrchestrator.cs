using System.Collections.Concurrent;
using System.Security.Cryptography;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Notifications.Hosting.Processes;
using Notifications.Hosting.Provisioning;
using Npgsql;

namespace Notifications.Hosting.Orchestration;

/// <summary>
/// Brings the graph up in dependency order (each resource starts when what it waits for is healthy or completed),
/// supervises the processes, and on shutdown stops projects first, then Redis, then Postgres.
/// </summary>
internal sealed partial class ResourceOrchestrator(
    IReadOnlyList<IResource> resources,
    IOptions<AppHostOptions> options,
    IHostApplicationLifetime lifetime,
    IHostEnvironment environment,
    IConfiguration configuration,
    ResourceOutput output,
    ILoggerFactory loggerFactory,
    TimeProvider timeProvider) : IHostedService
{
    private static readonly TimeSpan LocalServerReadyTimeout = TimeSpan.FromSeconds(60);
    // A container runtime may first have to pull the image.
    private static readonly TimeSpan ContainerReadyTimeout = TimeSpan.FromMinutes(10);
    private readonly ILogger _logger = loggerFactory.CreateLogger("Notifications.Hosting");
    private readonly AppHostOptions _options = options.Value;
    private readonly CancellationTokenSource _stopping = new();
    private readonly ConcurrentDictionary<IResource, SupervisedProcess> _processes = new();
    private readonly ConcurrentDictionary<IResource, Task> _ready = new();
    private readonly ConcurrentDictionary<IResource, int> _exitCodes = new();
    private readonly Lock _startGate = new();
    private AppHostStateStore? _state;
    private Task<string?>? _containerRuntime;
    private Task _startup = Task.CompletedTask;
    private bool _running;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        // Start-up runs in the background so Ctrl+C during a slow start (initdb, package install) still stops cleanly.
        _startup = Task.Run(() => StartResourcesAsync(_stopping.Token), CancellationToken.None);
        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        Log.Stopping(_logger);
        await _stopping.CancelAsync().ConfigureAwait(false);
        await _startup.ConfigureAwait(false);

        // Projects first (they hold connections), then Redis, then Postgres.
        await StopAllAsync(_processes.Where(entry => entry.Key is ProjectResource)).ConfigureAwait(false);
        await StopAllAsync(_processes.Where(entry => entry.Key is RedisResource)).ConfigureAwait(false);
        await StopAllAsync(_processes.Where(entry => entry.Key is PostgresServerResource)).ConfigureAwait(false);

        if (_state is { } state)
        {
            state.DeleteEndpoints();
            state.ClearRecordedProcesses();
            state.Dispose();
        }

        Log.Stopped(_logger);
    }

    private static async Task StopAllAsync(IEnumerable<KeyValuePair<IResource, SupervisedProcess>> processes)
        => await Task.WhenAll(processes.Select(entry => entry.Value.DisposeAsync().AsTask())).ConfigureAwait(false);

    private async Task StartResourcesAsync(CancellationToken cancellationToken)
    {
        try
        {
            var stateDirectory = _options.ResolveStateDirectory();
            _state = AppHostStateStore.Open(stateDirectory);
            await StaleProcessReaper.ReapAsync(_state, _logger, cancellationToken).ConfigureAwait(false);
            if (_options.Fresh)
            {
                Log.WipingState(_logger, stateDirectory);
                _state.Wipe();
            }

            Log.UsingStateDirectory(_logger, stateDirectory);
            AllocateProjectPorts();
            await Task.WhenAll(resources.Select(resource => EnsureStarted(resource, cancellationToken))).ConfigureAwait(false);
            _running = true;
            WriteEndpoints();
            PrintSummary();
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            Log.StartupCancelled(_logger);
        }
        catch (Exception exception)
        {
            Log.StartupFailed(_logger, exception.Message);
            Environment.ExitCode = 1;
            lifetime.StopApplication();
        }
    }

    /// <summary>One start task per resource, shared by everything that waits for it.</summary>
    private Task EnsureStarted(IResource resource, CancellationToken cancellationToken)
    {
        lock (_startGate)
        {
            return _ready.GetOrAdd(resource, _ => Task.Run(() => StartResourceAsync(resource, cancellationToken), cancellationToken));
        }
    }

    private async Task StartResourceAsync(IResource resource, CancellationToken cancellationToken)
    {
        if (resource is Resource { Waits.Count: > 0 } withWaits)
        {
            foreach (var wait in withWaits.Waits)
            {
                Log.Waiting(_logger, resource.Name, wait.Resource.Name, wait.Behavior);
            }

            try
            {
                await Task.WhenAll(withWaits.Waits.Select(wait => EnsureStarted(wait.Resource, cancellationToken))).ConfigureAwait(false);
            }
            catch (Exception exception) when (exception is not OperationCanceledException)
            {
                throw new InvalidOperationException($"'{resource.Name}' was not started because a resource it waits for failed: {exception.Message}", exception);
            }
        }

        switch (resource)
        {
            case PostgresServerResource server:
                await StartPostgresAsync(server, cancellationToken).ConfigureAwait(false);
                break;
            case PostgresDatabaseResource database:
                await StartDatabaseAsync(database, cancellationToken).ConfigureAwait(false);
                break;
            case RedisResource redis:
                await StartRedisAsync(redis, cancellationToken).ConfigureAwait(false);
                break;
            case ProjectResource project:
                await StartProjectAsync(project, cancellationToken).ConfigureAwait(false);
                break;
            default:
                throw new NotSupportedException($"Resource '{resource.Name}' of type {resource.GetType().Name} cannot be run by this AppHost.");
        }
    }

    private async Task StartPostgresAsync(PostgresServerResource server, CancellationToken cancellationToken)
    {
        if (configuration.GetConnectionString(server.Name) is { Length: > 0 } configured)
        {
            Log.UsingConfiguredConnectionString(_logger, server.Name);
            server.ConnectionString = configured;
            await PostgresServerSetup.WaitUntilAcceptingConnectionsAsync(configured, null, LocalServerReadyTimeout, cancellationToken).ConfigureAwait(false);
            return;
        }

        var state = ResolveInfrastructureState(server.Name, server.RequestedPort);
        var settings = new PostgresServerSettings(State.PostgresDataDirectory(server.Name), state.Port, state.Password);
        ProcessSpec spec;
        TimeSpan readyTimeout;
        if (await FindContainerRuntimeAsync(cancellationToken).ConfigureAwait(false) is { } runtime)
        {
            spec = ContainerSpecs.Postgres(runtime, server.Name, settings, State.ResourceDirectory(server.Name + "-container"));
            readyTimeout = ContainerReadyTimeout;
        }
        else
        {
            var binDirectory = await Binaries.ResolvePostgresBinDirectoryAsync(cancellationToken).ConfigureAwait(false);
            Log.UsingLocalBinaries(_logger, server.Name, binDirectory);
            spec = await PostgresServerSetup.PrepareLocalAsync(binDirectory, settings, cancellationToken).ConfigureAwait(false);
            readyTimeout = LocalServerReadyTimeout;
        }

        var process = StartProcess(server, spec, restarts: true);
        await PostgresServerSetup.WaitUntilAcceptingConnectionsAsync(settings.AdminConnectionString, process.FirstExit, readyTimeout, cancellationToken)
            .ConfigureAwait(false);
        server.ConnectionString = settings.AdminConnectionString;
    }

    private async Task StartDatabaseAsync(PostgresDatabaseResource database, CancellationToken cancellationToken)
    {
        await EnsureStarted(database.Parent, cancellationToken).ConfigureAwait(false);
        var serverConnectionString = database.Parent.ConnectionString!;
        await PostgresServerSetup.CreateDatabaseIfMissingAsync(serverConnectionString, database.DatabaseName, cancellationToken).ConfigureAwait(false);
        var connectionString = new NpgsqlConnectionStringBuilder(serverConnectionString) { Database = database.DatabaseName }.ConnectionString;
        await PostgresServerSetup.WaitUntilAcceptingConnectionsAsync(connectionString, null, LocalServerReadyTimeout, cancellationToken).ConfigureAwait(false);
        database.ConnectionString = connectionString;
        Log.ResourceHealthy(_logger, database.Name);
    }

    private async Task StartRedisAsync(RedisResource redis, CancellationToken cancellationToken)
    {
        if (configuration.GetConnectionString(redis.Name) is { Length: > 0 } configured)
        {
            Log.UsingConfiguredConnectionString(_logger, redis.Name);
            redis.ConnectionString = configured;
            return;
        }

        var state = ResolveInfrastructureState(redis.Name, redis.RequestedPort);
        var settings = new RedisServerSettings(State.ResourceDirectory(redis.Name), state.Port, state.Password);
        ProcessSpec spec;
        TimeSpan readyTimeout;
        if (await FindContainerRuntimeAsync(cancellationToken).ConfigureAwait(false) is { } runtime)
        {
            spec = ContainerSpecs.Redis(runtime, redis.Name, settings, State.ResourceDirectory(redis.Name + "-container"));
            readyTimeout = ContainerReadyTimeout;
        }
        else
        {
            var redisServer = await Binaries.ResolveRedisServerAsync(cancellationToken).ConfigureAwait(false);
            Log.UsingLocalBinaries(_logger, redis.Name, redisServer);
            spec = RedisServerSetup.PrepareLocal(redisServer, settings);
            readyTimeout = LocalServerReadyTimeout;
        }

        var process = StartProcess(redis, spec, restarts: true);
        await RedisServerSetup.WaitUntilAnsweringAsync(settings.Port, settings.Password, process.FirstExit, readyTimeout, cancellationToken).ConfigureAwait(false);
        redis.ConnectionString = settings.ConnectionString;
        Log.ResourceHealthy(_logger, redis.Name);
    }

    private async Task StartProjectAsync(ProjectResource project, CancellationToken cancellationToken)
    {
        var runsToCompletion = IsRunToCompletion(project);
        var process = StartProcess(project, ProjectSpec(project), restarts: !runsToCompletion);
        if (runsToCompletion)
        {
            var exitCode = await process.FirstExit.WaitAsync(cancellationToken).ConfigureAwait(false);
            _exitCodes[project] = exitCode;
            if (exitCode != 0)
            {
                throw new InvalidOperationException($"'{project.Name}' exited with code {exitCode}; the resources waiting for it were not started (see its output above).");
            }

            return;
        }

        if (project.Endpoints.FirstOrDefault(endpoint => endpoint.Scheme == "http") is { } http)
        {
            await WaitUntilHealthyAsync(project, new Uri(http.Url + "/health"), cancellationToken).ConfigureAwait(false);
        }

        Log.ResourceHealthy(_logger, project.Name);
    }

    private async Task WaitUntilHealthyAsync(ProjectResource project, Uri healthUrl, CancellationToken cancellationToken)
    {
        using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        var reported = false;
        while (true)
        {
            try
            {
                using var response = await client.GetAsync(healthUrl, cancellationToken).ConfigureAwait(false);
                if (response.IsSuccessStatusCode)
                {
                    return;
                }

                if (!reported)
                {
                    Log.NotHealthyYet(_logger, project.Name, healthUrl, (int)response.StatusCode);
                    reported = true;
                }
            }
            catch (Exception exception) when (exception is HttpRequestException || (exception is TaskCanceledException && !cancellationToken.IsCancellationRequested))
            {
                // Not listening yet, or restarting after a crash: the supervisor reports that.
            }

            await Task.Delay(TimeSpan.FromMilliseconds(250), timeProvider, cancellationToken).ConfigureAwait(false);
        }
    }

    private ProcessSpec ProjectSpec(ProjectResource project)
    {
        if (!File.Exists(project.Project.AssemblyPath))
        {
            throw new InvalidOperationException($"'{project.Name}' is not built: {project.Project.AssemblyPath} does not exist. Build the AppHost (dotnet build).");
        }

        var variables = new Dictionary<string, string?>(StringComparer.Ordinal)
        {
            ["DOTNET_ENVIRONMENT"] = environment.EnvironmentName,
            ["ASPNETCORE_ENVIRONMENT"] = environment.EnvironmentName,
            ["OTEL_SERVICE_NAME"] = project.Name,
            ["OTEL_RESOURCE_ATTRIBUTES"] = $"service.instance.id={project.Name}-{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4))}",
        };
        foreach (var name in new[] { "OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_PROTOCOL" })
        {
            if (configuration[name] is { Length: > 0 } value)
            {
                variables[name] = value;
            }
        }

        if (project.Endpoints.Count > 0)
        {
            variables["ASPNETCORE_URLS"] = string.Join(';', project.Endpoints.Select(endpoint => endpoint.Url));
        }

        foreach (var (name, value) in project.Environment)
        {
            variables[name] = value();
        }

        var (fileName, arguments) = OsUser.InOwnSession(DotnetHost.Path, ["exec", project.Project.AssemblyPath]);
        var workingDirectory = Path.GetDirectoryName(project.Project.ProjectPath) ?? Environment.CurrentDirectory;
        return new ProcessSpec(fileName, arguments, workingDirectory) { Environment = variables, StopSignal = NativeMethods.SigTerm };
    }

    private SupervisedProcess StartProcess(IResource resource, ProcessSpec spec, bool restarts)
    {
        var policy = restarts ? new RestartPolicy(TimeSpan.FromSeconds(1), _options.MaxRestartDelay) : RestartPolicy.None;
        var process = new SupervisedProcess(resource.Name, spec, policy, GracePeriodFor(resource), output, _logger, timeProvider);
        process.Started += processId =>
        {
            State.RecordProcess(resource.Name, processId);
            if (_running)
            {
                WriteEndpoints();
            }
        };
        _processes[resource] = process;
        process.Start();
        return process;
    }

    private TimeSpan GracePeriodFor(IResource resource)
        // A fast shutdown of Postgres may have to finish a checkpoint; give it longer than a service.
        => resource is PostgresServerResource ? _options.ShutdownGracePeriod * 3 : _options.ShutdownGracePeriod;

    private bool IsRunToCompletion(ProjectResource project)
        => resources.OfType<Resource>().Any(other => other.Waits.Any(wait => wait.Resource == project && wait.Behavior == WaitBehavior.Completed));

    private void AllocateProjectPorts()
    {
        foreach (var project in resources.OfType<ProjectResource>())
        {
            for (var i = 0; i < project.Endpoints.Count; i++)
            {
                var endpoint = project.Endpoints[i];
                int? fixedPort = i == 0 && _options.Ports.TryGetValue(project.Name, out var configured) ? configured
                    : _options.RandomPorts ? null : endpoint.RequestedPort;
                if (fixedPort is { } port && !PortAllocator.IsFree(port))
                {
                    throw new InvalidOperationException(
                        $"Port {port} for '{project.Name}' is already in use. Free it, or pass --{AppHostOptions.SectionName}:Ports:{project.Name}=<port> (or --random-ports).");
                }

                endpoint.AllocatedPort = fixedPort ?? PortAllocator.GetFreePort();
            }
        }
    }

    /// <summary>The persisted port and password of a server; a port taken by something else since is replaced (and persisted).</summary>
    private ResourceState ResolveInfrastructureState(string resourceName, int? requestedPort)
    {
        int? overridePort = _options.Ports.TryGetValue(resourceName, out var configured) ? configured : null;
        var state = State.GetOrCreate(resourceName, () => new ResourceState(
            overridePort ?? (_options.RandomPorts ? null : requestedPort) ?? PortAllocator.GetFreePort(),
            Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16))));
        if (overridePort is { } port && port != state.Port)
        {
            state = state with { Port = port };
            State.Update(resourceName, state);
        }

        if (!PortAllocator.IsFree(state.Port))
        {
            if (overridePort is not null)
            {
                throw new InvalidOperationException($"Port {state.Port} for '{resourceName}' is already in use.");
            }

            var replacement = state with { Port = PortAllocator.GetFreePort() };
            Log.PortTaken(_logger, resourceName, state.Port, replacement.Port);
            State.Update(resourceName, replacement);
            state = replacement;
        }

        return state;
    }

    private Task<string?> FindContainerRuntimeAsync(CancellationToken cancellationToken)
    {
        lock (_startGate)
        {
            return _containerRuntime ??= new ContainerRuntime(_logger).FindAnsweringAsync(_options.ContainerRuntimeProbeTimeout, cancellationToken);
        }
    }

    private ServerBinaries Binaries => new(_logger, _options.InstallMissingPackages);

    private AppHostStateStore State => _state ?? throw new InvalidOperationException("The state directory is not open yet.");

    private void WriteEndpoints()
    {
        var snapshots = new Dictionary<string, ResourceSnapshot>(StringComparer.Ordinal);
        foreach (var resource in resources)
        {
            int? processId = _processes.TryGetValue(resource, out var process) && !_exitCodes.ContainsKey(resource) ? process.ProcessId : null;

            snapshots[resource.Name] = resource switch
            {
                PostgresServerResource server => new ResourceSnapshot("postgres") { ConnectionString = server.ConnectionString, ProcessId = processId },
                PostgresDatabaseResource database => new ResourceSnapshot("postgres-database") { ConnectionString = database.ConnectionString },
                RedisResource redis => new ResourceSnapshot("redis") { ConnectionString = redis.ConnectionString, ProcessId = processId },
                ProjectResource project => new ResourceSnapshot("project")
                {
                    ProcessId = processId,
                    ExitCode = _exitCodes.TryGetValue(project, out var exitCode) ? exitCode : null,
                    Endpoints = project.Endpoints.ToDictionary(endpoint => endpoint.Name, endpoint => endpoint.Url),
                },
                _ => new ResourceSnapshot(resource.GetType().Name),
            };
        }

        State.WriteEndpoints(new AppHostEndpoints(Environment.ProcessId, State.Directory, snapshots));
    }

    private void PrintSummary()
    {
        foreach (var resource in resources)
        {
            switch (resource)
            {
                case ProjectResource project when project.Endpoints.Count > 0:
                    var url = project.Endpoints[0].Url;
                    Log.ProjectEndpoints(_logger, project.Name, url, url + "/health", url + "/alive");
                    break;
                case ProjectResource project:
                    Log.ProjectCompleted(_logger, project.Name, _exitCodes.GetValueOrDefault(project));
                    break;
                case IResourceWithConnectionString withConnectionString:
                    Log.ConnectionString(_logger, resource.Name, withConnectionString.ConnectionString ?? "(none)");
                    break;
            }
        }

        Log.Running(_logger, State.EndpointsFile);
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 1001, Level = LogLevel.Information, Message = "State directory: {StateDirectory}")]
        public static partial void UsingStateDirectory(ILogger logger, string stateDirectory);

        [LoggerMessage(EventId = 1002, Level = LogLevel.Warning, Message = "--fresh: wiping all data in {StateDirectory}")]
        public static partial void WipingState(ILogger logger, string stateDirectory);

        [LoggerMessage(EventId = 1003, Level = LogLevel.Information, Message = "{Resource}: waiting for {Dependency} ({Behavior})")]
        public static partial void Waiting(ILogger logger, string resource, string dependency, WaitBehavior behavior);

        [LoggerMessage(EventId = 1004, Level = LogLevel.Information, Message = "{Resource}: using the configured connection string ConnectionStrings:{Resource}")]
        public static partial void UsingConfiguredConnectionString(ILogger logger, string resource);

        [LoggerMessage(EventId = 1005, Level = LogLevel.Information, Message = "{Resource}: running local binaries from {Location}")]
        public static partial void UsingLocalBinaries(ILogger logger, string resource, string location);

        [LoggerMessage(EventId = 1006, Level = LogLevel.Information, Message = "{Resource}: healthy")]
        public static partial void ResourceHealthy(ILogger logger, string resource);

        [LoggerMessage(EventId = 1007, Level = LogLevel.Information, Message = "{Resource}: {HealthUrl} answered {StatusCode}; waiting for 200")]
        public static partial void NotHealthyYet(ILogger logger, string resource, Uri healthUrl, int statusCode);

        [LoggerMessage(EventId = 1008, Level = LogLevel.Warning, Message = "{Resource}: port {Port} is taken; using {NewPort} from now on")]
        public static partial void PortTaken(ILogger logger, string resource, int port, int newPort);

        [LoggerMessage(EventId = 1010, Level = LogLevel.Information, Message = "{Resource}: {Url}  health {HealthUrl}  alive {AliveUrl}")]
        public static partial void ProjectEndpoints(ILogger logger, string resource, string url, string healthUrl, string aliveUrl);

        [LoggerMessage(EventId = 1011, Level = LogLevel.Information, Message = "{Resource}: completed with exit code {ExitCode}")]
        public static partial void ProjectCompleted(ILogger logger, string resource, int exitCode);

        [LoggerMessage(EventId = 1012, Level = LogLevel.Information, Message = "{Resource}: {ConnectionString}")]
        public static partial void ConnectionString(ILogger logger, string resource, string connectionString);

        [LoggerMessage(EventId = 1013, Level = LogLevel.Information, Message = "All resources are healthy (endpoints: {EndpointsFile}). Press Ctrl+C to stop.")]
        public static partial void Running(ILogger logger, string endpointsFile);

        [LoggerMessage(EventId = 1020, Level = LogLevel.Critical, Message = "Start-up failed: {Reason}")]
        public static partial void StartupFailed(ILogger logger, string reason);

        [LoggerMessage(EventId = 1021, Level = LogLevel.Information, Message = "Start-up cancelled")]
        public static partial void StartupCancelled(ILogger logger);

        [LoggerMessage(EventId = 1022, Level = LogLevel.Information, Message = "Stopping: projects, then Redis, then Postgres")]
        public static partial void Stopping(ILogger logger);

        [LoggerMessage(EventId = 1023, Level = LogLevel.Information, Message = "Stopped")]
        public static partial void Stopped(ILogger logger);
    }
}
