using Microsoft.Extensions.Logging.Abstractions;
using Notifications.Hosting;
using Notifications.Hosting.Orchestration;
using Notifications.Hosting.Processes;
using Notifications.Hosting.Provisioning;

namespace Notifications.EndToEndTests;

/// <summary>Focused tests of the hosting library's parts, without an AppHost.</summary>
public sealed class HostingLibraryTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("notifications-hosting-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public async Task ContainerRuntimeProbe_FallsThrough_WhenTheClientHangsWithoutAnEngine()
    {
        var hangingClient = WriteScript("hanging-docker", "sleep 120");

        var runtime = await new ContainerRuntime(NullLogger.Instance)
            .FindAnsweringAsync([hangingClient], TimeSpan.FromMilliseconds(500), TestContext.Current.CancellationToken);

        Assert.Null(runtime);
    }

    [Fact]
    public async Task ContainerRuntimeProbe_FallsThrough_WhenTheClientReportsNoEngine()
    {
        var failingClient = WriteScript("failing-docker", "echo 'Cannot connect to the Docker daemon' >&2; exit 1");

        var runtime = await new ContainerRuntime(NullLogger.Instance)
            .FindAnsweringAsync([failingClient], TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken);

        Assert.Null(runtime);
    }

    [Fact]
    public async Task ContainerRuntimeProbe_PicksTheFirstRuntimeThatAnswers()
    {
        var failingClient = WriteScript("failing-docker", "exit 1");
        var answeringClient = WriteScript("answering-podman", "exit 0");

        var runtime = await new ContainerRuntime(NullLogger.Instance)
            .FindAnsweringAsync([failingClient, answeringClient], TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken);

        Assert.Equal(answeringClient, runtime);
    }

    [Fact]
    public async Task SupervisedProcess_RestartsAProcessThatCrashes()
    {
        var starts = 0;
        var restartedTwice = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var supervised = new SupervisedProcess(
            "crasher", new ProcessSpec("/bin/sh", ["-c", "exit 3"], _directory),
            new RestartPolicy(TimeSpan.FromMilliseconds(20), TimeSpan.FromMilliseconds(100)),
            TimeSpan.FromSeconds(5), new ResourceOutput(TextWriter.Null), NullLogger.Instance, TimeProvider.System);
        supervised.Started += _ =>
        {
            if (Interlocked.Increment(ref starts) == 3)
            {
                restartedTwice.TrySetResult();
            }
        };

        supervised.Start();
        await restartedTwice.Task.WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);
        await supervised.DisposeAsync();

        Assert.Equal(3, await supervised.FirstExit);
        Assert.True(Volatile.Read(ref starts) >= 3);
    }

    [Fact]
    public async Task SupervisedProcess_RunToCompletion_ReportsTheExitCode()
    {
        await using var supervised = new SupervisedProcess(
            "migrator", new ProcessSpec("/bin/sh", ["-c", "exit 7"], _directory), RestartPolicy.None,
            TimeSpan.FromSeconds(5), new ResourceOutput(TextWriter.Null), NullLogger.Instance, TimeProvider.System);

        supervised.Start();

        Assert.Equal(7, await supervised.FirstExit.WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task ManagedProcess_Stop_KillsAProcessThatIgnoresTheStopSignal()
    {
        var process = ManagedProcess.Start(
            "stubborn", new ProcessSpec("/bin/sh", ["-c", "trap '' TERM; echo ready; sleep 120 & wait"], _directory), new ResourceOutput(TextWriter.Null));

        await process.StopAsync(NativeMethods.SigTerm, TimeSpan.FromMilliseconds(500));

        Assert.True(process.Exited.IsCompleted);
        Assert.Null(ProcessIdentity.GetStartTicks(process.Id));
        await process.DisposeAsync();
    }

    [Fact]
    public void ProcessOutput_IsPrefixedWithTheResourceName()
    {
        var writer = new StringWriter();

        new ResourceOutput(writer).WriteLine("api", "Now listening on: http://localhost:5080");

        Assert.Equal("[api] Now listening on: http://localhost:5080" + Environment.NewLine, writer.ToString());
    }

    [Fact]
    public void RestartDelay_DoublesAfterEachCrash_UpToTheCap()
    {
        var policy = new RestartPolicy(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(30));

        Assert.Equal(
            [1, 2, 4, 8, 16, 30, 30],
            Enumerable.Range(1, 7).Select(failures => policy.DelayBeforeRestart(failures).TotalSeconds));
    }

    [Fact]
    public void Fresh_WipesDataPasswordsAndPorts_ButKeepsTheLock()
    {
        using var state = AppHostStateStore.Open(_directory);
        var original = state.GetOrCreate("redis", () => new ResourceState(6400, "first-password"));
        Directory.CreateDirectory(state.ResourceDirectory("redis"));
        File.WriteAllText(Path.Combine(state.ResourceDirectory("redis"), "appendonly.aof"), "data");

        state.Wipe();

        Assert.Equal(["apphost.lock"], Directory.EnumerateFileSystemEntries(_directory).Select(Path.GetFileName));
        Assert.NotEqual(original, state.GetOrCreate("redis", () => new ResourceState(6401, "second-password")));
    }

    [Fact]
    public void StateDirectory_KeepsPasswordsAndPorts_AcrossRestarts()
    {
        ResourceState first;
        using (var state = AppHostStateStore.Open(_directory))
        {
            first = state.GetOrCreate("postgres", () => new ResourceState(5433, "generated"));
        }

        using var reopened = AppHostStateStore.Open(_directory);

        Assert.Equal(first, reopened.GetOrCreate("postgres", () => new ResourceState(1, "other")));
    }

    [Fact]
    public void StateDirectory_RefusesASecondAppHost()
    {
        using var first = AppHostStateStore.Open(_directory);

        var error = Assert.Throws<InvalidOperationException>(() => AppHostStateStore.Open(_directory));

        Assert.Contains("Another AppHost", error.Message);
    }

    [Fact]
    public void CommandLine_MapsTheAppHostSwitches_OntoConfiguration()
    {
        var normalized = AppHostCommandLine.Normalize(["--fresh", "--state-dir", "/tmp/x", "--random-ports", "--AppHost:Ports:api=5090"]);

        Assert.Equal(
            ["--AppHost:Fresh=true", "--AppHost:StateDirectory=/tmp/x", "--AppHost:RandomPorts=true", "--AppHost:Ports:api=5090"],
            normalized);
    }

    [Fact]
    public void WithReference_InjectsAspireShapedVariables()
    {
        var builder = DistributedApplication.CreateBuilder([]);
        var redis = builder.AddRedis("redis");
        var api = builder.AddProject<FakeProject>("api").WithHttpEndpoint(port: 5080);
        var worker = builder.AddProject<FakeProject>("worker").WithReference(redis).WithReference(api);
        redis.Resource.ConnectionString = "127.0.0.1:6379,password=p";
        api.Resource.Endpoints[0].AllocatedPort = 5080;

        var environment = worker.Resource.Environment.ToDictionary(variable => variable.Key, variable => variable.Value());

        Assert.Equal("127.0.0.1:6379,password=p", environment["ConnectionStrings__redis"]);
        Assert.Equal("http://localhost:5080", environment["services__api__http__0"]);
    }

    private string WriteScript(string name, string body)
    {
        var path = Path.Combine(_directory, name);
        File.WriteAllText(path, $"#!/bin/sh\n{body}\n");
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }

        return path;
    }

    private sealed class FakeProject : IProjectMetadata
    {
        public string ProjectPath => "/nonexistent/Fake.csproj";

        public string AssemblyPath => "/nonexistent/Fake.dll";
    }
}
