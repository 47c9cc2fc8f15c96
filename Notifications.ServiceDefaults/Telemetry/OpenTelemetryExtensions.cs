using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using OpenTelemetry;
using OpenTelemetry.Logs;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace Notifications.ServiceDefaults.Telemetry;

/// <summary>
/// Builds the OpenTelemetry SDK without OpenTelemetry.Extensions.Hosting (not obtainable here): traces and metrics
/// through <see cref="OpenTelemetrySdk"/>, owned by the host so it flushes on shutdown; logs through the logging
/// builder. Exporting is over OTLP and only when <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> is set, as in Aspire.
/// </summary>
public static class OpenTelemetryExtensions
{
    /// <summary>Every Notifications service names its ActivitySource and Meter under this prefix.</summary>
    public const string ApplicationSourcePrefix = "Notifications.";

    /// <summary>The framework's own sources: incoming requests, outgoing HTTP, and Npgsql.</summary>
    public static readonly IReadOnlyList<string> FrameworkActivitySources = ["Microsoft.AspNetCore", "System.Net.Http", "Npgsql"];

    /// <summary>The framework's own meters: ASP.NET Core, Kestrel, outgoing HTTP, Npgsql, and the runtime.</summary>
    public static readonly IReadOnlyList<string> FrameworkMeters =
    [
        "Microsoft.AspNetCore.Hosting",
        "Microsoft.AspNetCore.Server.Kestrel",
        "Microsoft.AspNetCore.Http.Connections",
        "Microsoft.AspNetCore.Routing",
        "Microsoft.AspNetCore.Diagnostics",
        "Microsoft.AspNetCore.RateLimiting",
        "System.Net.Http",
        "System.Net.NameResolution",
        "Npgsql",
        "System.Runtime",
    ];

    public static TBuilder ConfigureOpenTelemetry<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        var exportOverOtlp = !string.IsNullOrWhiteSpace(builder.Configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]);
        var serviceName = builder.Configuration["OTEL_SERVICE_NAME"];
        var applicationName = builder.Environment.ApplicationName;

        // OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES are read by the SDK's default resource detectors;
        // the application name stands in only when no service name was given.
        void ConfigureResource(ResourceBuilder resource)
        {
            if (string.IsNullOrWhiteSpace(serviceName))
            {
                resource.AddService(applicationName);
            }
        }

        builder.Logging.AddOpenTelemetry(logging =>
        {
            logging.IncludeFormattedMessage = true;
            logging.IncludeScopes = true;
        });
        builder.Services.ConfigureOpenTelemetryLoggerProvider(logging =>
        {
            logging.ConfigureResource(ConfigureResource);
            if (exportOverOtlp)
            {
                logging.AddOtlpExporter();
            }
        });

        builder.Services.AddSingleton(_ => OpenTelemetrySdk.Create(sdk =>
        {
            sdk.ConfigureResource(ConfigureResource);
            sdk.WithTracing(tracing => tracing
                .AddSource(ApplicationSourcePrefix + "*")
                .AddSource([.. FrameworkActivitySources]));
            sdk.WithMetrics(metrics => metrics
                .AddMeter(ApplicationSourcePrefix + "*")
                .AddMeter([.. FrameworkMeters]));
            if (exportOverOtlp)
            {
                // Reads OTEL_EXPORTER_OTLP_ENDPOINT, OTEL_EXPORTER_OTLP_PROTOCOL and OTEL_EXPORTER_OTLP_HEADERS.
                sdk.UseOtlpExporter();
            }
        }));
        builder.Services.AddHostedService<OpenTelemetryLifetime>();
        builder.Services.AddSingleton<IStartupFilter, HttpServerActivityStartupFilter>();
        return builder;
    }
}
