using System.Text.RegularExpressions;

namespace Notifications.Hosting;

/// <summary>A named part of the distributed application.</summary>
public interface IResource
{
    string Name { get; }
}

/// <summary>A resource other resources reach through a connection string, injected as <c>ConnectionStrings__&lt;name&gt;</c>.</summary>
public interface IResourceWithConnectionString : IResource
{
    /// <summary>The connection string, known once the resource has been provisioned.</summary>
    string? ConnectionString { get; }
}

public abstract partial class Resource : IResource
{
    protected Resource(string name)
    {
        if (!ValidName().IsMatch(name))
        {
            throw new ArgumentException($"Resource name '{name}' is invalid: use letters, digits and '-', starting with a letter.", nameof(name));
        }

        Name = name;
    }

    public string Name { get; }

    /// <summary>Resources that must be healthy or completed before this one starts.</summary>
    public IList<WaitAnnotation> Waits { get; } = [];

    public override string ToString() => Name;

    [GeneratedRegex("^[a-zA-Z][a-zA-Z0-9-]{0,63}$")]
    private static partial Regex ValidName();
}

public enum WaitBehavior
{
    /// <summary>Wait until the resource reports healthy.</summary>
    Healthy,

    /// <summary>Wait until the resource's process has exited with code 0.</summary>
    Completed,
}

public sealed record WaitAnnotation(IResource Resource, WaitBehavior Behavior);

/// <summary>An endpoint a project listens on; the port is fixed by the graph or allocated at start.</summary>
public sealed class EndpointAnnotation(string name, string scheme, int? port)
{
    public string Name { get; } = name;

    public string Scheme { get; } = scheme;

    /// <summary>The port asked for in the graph; <see langword="null"/> means any free port.</summary>
    public int? RequestedPort { get; } = port;

    /// <summary>The port actually used by this run.</summary>
    public int? AllocatedPort { get; internal set; }

    public string Url => AllocatedPort is { } port
        ? $"{Scheme}://localhost:{port}"
        : throw new InvalidOperationException($"Endpoint '{Name}' has no port allocated yet.");
}

/// <summary>A PostgreSQL server. Its connection string is the superuser's, on database <c>postgres</c>.</summary>
public sealed class PostgresServerResource(string name, int? port) : Resource(name), IResourceWithConnectionString
{
    public const string SuperuserName = "postgres";

    public int? RequestedPort { get; } = port;

    public IList<PostgresDatabaseResource> Databases { get; } = [];

    public string? ConnectionString { get; internal set; }
}

/// <summary>A database created on a <see cref="PostgresServerResource"/> once the server is ready.</summary>
public sealed class PostgresDatabaseResource(string name, string databaseName, PostgresServerResource parent)
    : Resource(name), IResourceWithConnectionString
{
    public string DatabaseName { get; } = databaseName;

    public PostgresServerResource Parent { get; } = parent;

    public string? ConnectionString { get; internal set; }
}

/// <summary>A Redis server; its connection string is in StackExchange.Redis format.</summary>
public sealed class RedisResource(string name, int? port) : Resource(name), IResourceWithConnectionString
{
    public int? RequestedPort { get; } = port;

    public string? ConnectionString { get; internal set; }
}

/// <summary>A .NET project run from its build output.</summary>
public sealed class ProjectResource(string name, IProjectMetadata project) : Resource(name)
{
    public IProjectMetadata Project { get; } = project;

    public IList<EndpointAnnotation> Endpoints { get; } = [];

    /// <summary>Environment for the process; values are resolved when it starts, after its references are provisioned.</summary>
    public IDictionary<string, Func<string?>> Environment { get; } = new Dictionary<string, Func<string?>>(StringComparer.Ordinal);
}
