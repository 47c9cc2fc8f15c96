using Notifications.Hosting.Orchestration;
using Notifications.Testing;

namespace Notifications.EndToEndTests;

/// <summary>Stopping is destructive, so this class gets an AppHost of its own.</summary>
public sealed class AppHostShutdownTests(AppHostTestHost appHost) : IClassFixture<AppHostTestHost>
{
    [Fact]
    public async Task CtrlC_StopsEveryResource_AndLeavesNoProcessBehind()
    {
        var children = appHost.Endpoints.Resources
            .Where(resource => resource.Value.ProcessId is not null)
            .Select(resource => (Name: resource.Key, ProcessId: resource.Value.ProcessId!.Value, StartTicks: ProcessIdentity.GetStartTicks(resource.Value.ProcessId!.Value)))
            .ToList();
        Assert.All(children, child => Assert.NotNull(child.StartTicks));

        var exitCode = await appHost.InterruptAsync();

        Assert.Equal(0, exitCode);
        var survivors = children
            .Where(child => ProcessIdentity.IsAlive(new RecordedProcess(child.Name, child.ProcessId, child.StartTicks!.Value)))
            .Select(child => $"{child.Name} ({child.ProcessId})");
        Assert.Empty(survivors);
        // Postgres backends and Redis run with their working directory in the state directory: none may outlive the AppHost.
        Assert.Empty(ProcessesWorkingUnder(appHost.StateDirectory));
    }

    private static List<string> ProcessesWorkingUnder(string directory)
    {
        var found = new List<string>();
        foreach (var procEntry in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(procEntry), out var processId))
            {
                continue;
            }

            try
            {
                var workingDirectory = new FileInfo(Path.Combine(procEntry, "cwd")).LinkTarget;
                if (workingDirectory is not null && workingDirectory.StartsWith(directory, StringComparison.Ordinal))
                {
                    found.Add($"{processId}: {File.ReadAllText(Path.Combine(procEntry, "cmdline")).Replace('\0', ' ')}");
                }
            }
            catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
            {
                // The process exited while we looked, or is not ours to inspect.
            }
        }

        return found;
    }
}
