using System.Text.Json;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Notifications.Domain.Alerts;
using Notifications.Testing.Fakes;

namespace Notifications.IntegrationTests.Alerts;

/// <summary>Alerts reach Slack and Discord in their own formats, and a webhook that fails never fails the caller.</summary>
public sealed class WebhookAlertSenderTests : IAsyncLifetime
{
    private static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    private static readonly Alert QuotaAlert = new(
        "Email quota at 90%",
        AlertSeverity.Error,
        "90 of 100 emails sent today.",
        [new AlertField("Used", "90"), new AlertField("Limit", "100")],
        new DateTimeOffset(2026, 11, 24, 9, 30, 0, TimeSpan.Zero));

    private FakeWebhookServer _webhooks = null!;

    public async ValueTask InitializeAsync() => _webhooks = await FakeWebhookServer.StartNewAsync();

    public ValueTask DisposeAsync() => _webhooks.DisposeAsync();

    [Fact]
    public async Task SendAsync_BothWebhooks_PostsSlackAttachmentAndDiscordEmbedWithColourEnvironmentAndFields()
    {
        using var host = BuildHost(_webhooks.SlackWebhookUrl, _webhooks.DiscordWebhookUrl);

        var accepted = await host.Services.GetRequiredService<IAlertSender>().SendAsync(QuotaAlert, Cancellation);

        Assert.Equal(2, accepted);
        var slack = Assert.Single(_webhooks.SlackMessages);
        Assert.Contains("Email quota at 90%", slack.GetProperty("text").GetString());
        var attachment = Assert.Single(slack.GetProperty("attachments").EnumerateArray());
        Assert.Equal("#FF4500", attachment.GetProperty("color").GetString());
        Assert.Equal("90 of 100 emails sent today.", attachment.GetProperty("text").GetString());
        Assert.Equal(QuotaAlert.Timestamp.ToUnixTimeSeconds(), attachment.GetProperty("ts").GetInt64());
        Assert.Equal(
            ["Environment=Staging", "Severity=Error", "Used=90", "Limit=100"],
            attachment.GetProperty("fields").EnumerateArray().Select(field => $"{field.GetProperty("title")}={field.GetProperty("value")}"));

        var embed = Assert.Single(Assert.Single(_webhooks.DiscordMessages).GetProperty("embeds").EnumerateArray());
        Assert.Contains("Email quota at 90%", embed.GetProperty("title").GetString());
        Assert.Equal(0xFF4500, embed.GetProperty("color").GetInt32());
        Assert.Equal(QuotaAlert.Timestamp, embed.GetProperty("timestamp").GetDateTimeOffset());
        Assert.Equal(
            ["Environment=Staging", "Severity=Error", "Used=90", "Limit=100"],
            embed.GetProperty("fields").EnumerateArray().Select(field => $"{field.GetProperty("name")}={field.GetProperty("value")}"));
    }

    [Theory]
    [InlineData(400)]
    [InlineData(404)]
    [InlineData(429)]
    [InlineData(500)]
    public async Task SendAsync_WebhooksRefuse_ReturnsZeroWithoutThrowing(int status)
    {
        _webhooks.FailWith(status);
        using var host = BuildHost(_webhooks.SlackWebhookUrl, _webhooks.DiscordWebhookUrl);

        var accepted = await host.Services.GetRequiredService<IAlertSender>().SendAsync(QuotaAlert, Cancellation);

        Assert.Equal(0, accepted);
        Assert.Single(_webhooks.SlackMessages);
        Assert.Single(_webhooks.DiscordMessages);
    }

    [Fact]
    public async Task SendAsync_WebhookUnreachable_ReturnsWhatTheOtherAccepted()
    {
        var closed = new Uri($"http://127.0.0.1:{FreeClosedPort()}/services/x");
        using var host = BuildHost(closed, _webhooks.DiscordWebhookUrl);

        var accepted = await host.Services.GetRequiredService<IAlertSender>().SendAsync(QuotaAlert, Cancellation);

        Assert.Equal(1, accepted);
        Assert.Single(_webhooks.DiscordMessages);
    }

    [Fact]
    public async Task SendAsync_NoWebhookConfigured_PostsNothing()
    {
        using var host = BuildHost(null, null);

        var accepted = await host.Services.GetRequiredService<IAlertSender>().SendAsync(QuotaAlert, Cancellation);

        Assert.Equal(0, accepted);
        Assert.Empty(_webhooks.Requests);
    }

    [Fact]
    public void Options_RelativeWebhookUrl_FailsNamingTheSetting()
    {
        using var host = BuildHost(null, null, new() { ["Alerts:SlackWebhookUrl"] = "/services/x" });

        var failure = Assert.Throws<OptionsValidationException>(() => host.Services.GetRequiredService<IOptions<AlertOptions>>().Value);

        Assert.Contains("Alerts:SlackWebhookUrl", failure.Message);
    }

    private static IHost BuildHost(Uri? slack, Uri? discord, Dictionary<string, string?>? settings = null)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true, EnvironmentName = "Staging" });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Alerts:SlackWebhookUrl"] = slack?.ToString(),
            ["Alerts:DiscordWebhookUrl"] = discord?.ToString(),
        });
        builder.Configuration.AddInMemoryCollection(settings ?? []);
        builder.AddWebhookAlerts();
        return builder.Build();
    }

    private static int FreeClosedPort()
    {
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        return ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
    }
}
