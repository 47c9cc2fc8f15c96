using System.Runtime.InteropServices;

namespace Notifications.Hosting.Orchestration;

/// <summary>The `dotnet` muxer that runs project assemblies with <c>dotnet exec</c>.</summary>
internal static class DotnetHost
{
    private static readonly Lazy<string> Resolved = new(Resolve);

    public static string Path => Resolved.Value;

    private static string Resolve()
    {
        // Set by the SDK for `dotnet run`/`dotnet test` children.
        if (Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } hostPath && File.Exists(hostPath))
        {
            return hostPath;
        }

        if (Environment.ProcessPath is { } processPath && System.IO.Path.GetFileNameWithoutExtension(processPath) == "dotnet")
        {
            return processPath;
        }

        // The runtime lives in <root>/shared/Microsoft.NETCore.App/<version>/; the muxer is <root>/dotnet.
        var runtimeDirectory = RuntimeEnvironment.GetRuntimeDirectory();
        var fromRuntime = System.IO.Path.GetFullPath(System.IO.Path.Combine(runtimeDirectory, "..", "..", "..", "dotnet"));
        return File.Exists(fromRuntime) ? fromRuntime : "dotnet";
    }
}
