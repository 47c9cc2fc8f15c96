using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Microsoft.Extensions.Hosting;

/// <summary>Writes a health report as JSON so an operator sees which dependency is unhealthy and why.</summary>
internal static class HealthReportWriter
{
    private static readonly JsonWriterOptions WriterOptions = new() { Indented = false };

    public static async Task WriteAsync(HttpContext context, HealthReport report)
    {
        context.Response.ContentType = "application/json; charset=utf-8";
        await using var writer = new Utf8JsonWriter(context.Response.Body, WriterOptions);
        writer.WriteStartObject();
        writer.WriteString("status", report.Status.ToString());
        writer.WriteNumber("durationMs", Math.Round(report.TotalDuration.TotalMilliseconds, 1));
        writer.WriteStartObject("checks");
        foreach (var (name, entry) in report.Entries)
        {
            writer.WriteStartObject(name);
            writer.WriteString("status", entry.Status.ToString());
            if (entry.Description is { } description)
            {
                writer.WriteString("description", description);
            }
            if (entry.Exception is { } exception)
            {
                writer.WriteString("error", exception.Message);
            }
            foreach (var (key, value) in entry.Data)
            {
                writer.WriteString(key, value?.ToString());
            }
            writer.WriteEndObject();
        }
        writer.WriteEndObject();
        writer.WriteEndObject();
        await writer.FlushAsync(context.RequestAborted);
    }
}
