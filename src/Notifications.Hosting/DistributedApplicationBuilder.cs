using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Notifications.Hosting.Orchestration;
using Notifications.Hosting.Processes;

namespace Notifications.Hosting;

/// <summary>Builds the resource graph of a distributed application (the shape of Aspire's builder).</summary>
public interface IDistributedApplicationBuilder
{
    ConfigurationManager Configuration { get; }

    IServiceCollection Services { get; }

    IReadOnlyList<IResource> Resources { get; }

    IResourceBuilder<T> AddResource<T>(T resource) where T : IResource;

    DistributedApplication Build();
}

/// <summary>Fluent access to one resource of the graph.</summary>
public interface IResourceBuilder<out T> where T : IResource
{
    IDistributedApplicationBuilder ApplicationBuilder { get; }

    T Resource { get; }
}

internal sealed class ResourceBuilder<T>(IDistributedApplicationBuilder applicationBuilder, T resource) : IResourceBuilder<T>
    where T : IResource
{
    public IDistributedApplicationBuilder ApplicationBuilder { get; } = applicationBuilder;

    public T Resource { get; } = resource;
}

internal sealed class DistributedApplicationBuilder : IDistributedApplicationBuilder
{
    private readonly HostApplicationBuilder _hostBuilder;
    private readonly List<IResource> _resources = [];

    public DistributedApplicationBuilder(string[] args)
    {
        var normalizedArgs = AppHostCommandLine.Normalize(args);
        _hostBuilder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings
        {
            Args = normalizedArgs,
            // The AppHost is a developer tool: its services run as Development unless told otherwise.
            EnvironmentName = Environment.GetEnvironmentVariable("DOTNET_ENVIRONMENT")
                ?? Environment.GetEnvironmentVariable("ASPNETCORE_ENVIRONMENT")
                ?? Environments.Development,
        });

        // Aspire reads unprefixed variables too (ConnectionStrings__redis, OTEL_EXPORTER_OTLP_ENDPOINT);
        // the command line is added again so it keeps the last word.
        _hostBuilder.Configuration.AddEnvironmentVariables();
        _hostBuilder.Configuration.AddCommandLine(normalizedArgs);

        _hostBuilder.Logging.AddSimpleConsole(options =>
        {
            options.SingleLine = true;
            options.TimestampFormat = "HH:mm:ss ";
        });
        _hostBuilder.Services.Configure<HostOptions>(options => options.ShutdownTimeout = TimeSpan.FromMinutes(2));
        _hostBuilder.Services.AddOptions<AppHostOptions>()
            .Bind(_hostBuilder.Configuration.GetSection(AppHostOptions.SectionName))
            .ValidateOnStart();
        _hostBuilder.Services.AddSingleton<IValidateOptions<AppHostOptions>, AppHostOptionsValidator>();
        _hostBuilder.Services.AddSingleton(TimeProvider.System);
        _hostBuilder.Services.AddSingleton<ResourceOutput>(_ => new ResourceOutput(Console.Out));
        _hostBuilder.Services.AddSingleton<IReadOnlyList<IResource>>(_resources);
        _hostBuilder.Services.AddHostedService<ResourceOrchestrator>();
    }

    public ConfigurationManager Configuration => _hostBuilder.Configuration;

    public IServiceCollection Services => _hostBuilder.Services;

    public IReadOnlyList<IResource> Resources => _resources;

    public IResourceBuilder<T> AddResource<T>(T resource) where T : IResource
    {
        if (_resources.Any(existing => string.Equals(existing.Name, resource.Name, StringComparison.OrdinalIgnoreCase)))
        {
            throw new InvalidOperationException($"A resource named '{resource.Name}' already exists.");
        }

        _resources.Add(resource);
        return new ResourceBuilder<T>(this, resource);
    }

    public DistributedApplication Build() => new(_hostBuilder.Build());
}
