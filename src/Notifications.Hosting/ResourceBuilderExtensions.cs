namespace Notifications.Hosting;

public static class ResourceBuilderExtensions
{
    public static IResourceBuilder<PostgresServerResource> AddPostgres(this IDistributedApplicationBuilder builder, string name, int? port = null)
        => builder.AddResource(new PostgresServerResource(name, port));

    /// <summary>A database on the server, created once the server accepts connections (like Aspire's AddDatabase).</summary>
    public static IResourceBuilder<PostgresDatabaseResource> AddDatabase(
        this IResourceBuilder<PostgresServerResource> server, string name, string? databaseName = null)
    {
        var database = new PostgresDatabaseResource(name, databaseName ?? name, server.Resource);
        server.Resource.Databases.Add(database);
        return server.ApplicationBuilder.AddResource(database);
    }

    public static IResourceBuilder<RedisResource> AddRedis(this IDistributedApplicationBuilder builder, string name, int? port = null)
        => builder.AddResource(new RedisResource(name, port));

    public static IResourceBuilder<ProjectResource> AddProject<TProject>(this IDistributedApplicationBuilder builder, string name)
        where TProject : IProjectMetadata, new()
        => builder.AddResource(new ProjectResource(name, new TProject()));

    /// <summary>An HTTP endpoint; without a port one is allocated at start. Projects serve /health and /alive on it.</summary>
    public static IResourceBuilder<ProjectResource> WithHttpEndpoint(
        this IResourceBuilder<ProjectResource> builder, int? port = null, string name = "http")
    {
        if (builder.Resource.Endpoints.Any(endpoint => endpoint.Name == name))
        {
            throw new InvalidOperationException($"Resource '{builder.Resource.Name}' already has an endpoint named '{name}'.");
        }

        builder.Resource.Endpoints.Add(new EndpointAnnotation(name, "http", port));
        return builder;
    }

    public static IResourceBuilder<ProjectResource> WithEnvironment(this IResourceBuilder<ProjectResource> builder, string name, string? value)
    {
        builder.Resource.Environment[name] = () => value;
        return builder;
    }

    /// <summary>Injects <c>ConnectionStrings__&lt;name&gt;</c>, as Aspire does.</summary>
    public static IResourceBuilder<ProjectResource> WithReference<TSource>(
        this IResourceBuilder<ProjectResource> builder, IResourceBuilder<TSource> source)
        where TSource : IResourceWithConnectionString
    {
        var resource = source.Resource;
        builder.Resource.Environment[$"ConnectionStrings__{resource.Name}"] = () => resource.ConnectionString
            ?? throw new InvalidOperationException($"Resource '{resource.Name}' has no connection string yet.");
        return builder;
    }

    /// <summary>Injects <c>services__&lt;name&gt;__&lt;endpoint&gt;__0</c> for each endpoint, Aspire's service-discovery shape.</summary>
    public static IResourceBuilder<ProjectResource> WithReference(
        this IResourceBuilder<ProjectResource> builder, IResourceBuilder<ProjectResource> source)
    {
        foreach (var endpoint in source.Resource.Endpoints)
        {
            builder.Resource.Environment[$"services__{source.Resource.Name}__{endpoint.Name}__0"] = () => endpoint.Url;
        }

        return builder;
    }

    /// <summary>Starts this resource only once <paramref name="dependency"/> is healthy.</summary>
    public static IResourceBuilder<T> WaitFor<T>(this IResourceBuilder<T> builder, IResourceBuilder<IResource> dependency)
        where T : Resource
    {
        builder.Resource.Waits.Add(new WaitAnnotation(dependency.Resource, WaitBehavior.Healthy));
        return builder;
    }

    /// <summary>
    /// Starts this resource only once <paramref name="dependency"/> has exited with code 0. The dependency is then
    /// run to completion: it is not restarted when it exits, and a non-zero exit stops the start-up.
    /// </summary>
    public static IResourceBuilder<T> WaitForCompletion<T>(this IResourceBuilder<T> builder, IResourceBuilder<ProjectResource> dependency)
        where T : Resource
    {
        builder.Resource.Waits.Add(new WaitAnnotation(dependency.Resource, WaitBehavior.Completed));
        return builder;
    }
}
