namespace Notifications.Hosting;

/// <summary>
/// Build-time facts about a project the AppHost runs. The AppHost build generates one implementation per
/// project in the <c>Projects</c> namespace (see build/Notifications.Hosting.ProjectMetadata.targets).
/// </summary>
public interface IProjectMetadata
{
    /// <summary>Full path of the project file; its directory is the process's working directory and content root.</summary>
    string ProjectPath { get; }

    /// <summary>Full path of the built assembly, started with <c>dotnet exec</c>.</summary>
    string AssemblyPath { get; }
}
