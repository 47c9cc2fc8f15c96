using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Notifications.Domain.Unsubscribe;
using Notifications.EmailWorker.Email;
using Notifications.EmailWorker.Email.Providers;

namespace Notifications.EmailWorker.Tests.Email;

/// <summary>Which provider the configuration picks, and settings that stop start-up naming the setting.</summary>
[Collection(WorkerTestCollection.Name)]
public sealed class EmailOptionsTests(TestServers servers)
{
    private static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    private readonly FakeTimeProvider _clock = EmailChannelHost.FreshMonthClock();

    [Theory]
    [InlineData(null, null, typeof(DevMailboxEmailSender))]
    [InlineData("false", "resend", typeof(DevMailboxEmailSender))]
    [InlineData("false", "smtp", typeof(DevMailboxEmailSender))]
    [InlineData("true", "resend", typeof(ResendEmailSender))]
    [InlineData("true", "smtp", typeof(SmtpEmailSender))]
    [InlineData("true", "dev-mailbox", typeof(DevMailboxEmailSender))]
    public async Task Provider_IsTheConfiguredOne_OnlyWhenRealEmailIsOn(string? enableRealEmails, string? provider, Type expected)
    {
        await using var host = await EmailChannelHost.StartAsync(servers, _clock, new()
        {
            ["Email:EnableRealEmails"] = enableRealEmails,
            ["Email:Provider"] = provider,
            ["Email:From"] = "Acme <notifications@acme.test>",
            ["Email:Resend:ApiKey"] = "re_anything",
            ["Email:Smtp:Host"] = "smtp.acme.test",
        });

        Assert.IsType(expected, host.Services.GetRequiredService<IEmailSender>());
    }

    [Fact]
    public async Task PublicBaseUrl_DefaultsToTheApiUrlTheAppHostInjects()
    {
        await using var host = await EmailChannelHost.StartAsync(servers, _clock, new()
        {
            ["Email:PublicBaseUrl"] = null,
            ["services:api:http:0"] = "http://localhost:5080",
        });

        Assert.Equal(new Uri("http://localhost:5080"), host.Services.GetRequiredService<IOptions<EmailOptions>>().Value.PublicBaseUrl);
    }

    [Theory]
    [InlineData("Email:Provider", "sendgrid", "Email:Provider must be 'dev-mailbox', 'resend' or 'smtp'")]
    [InlineData("Email:PublicBaseUrl", null, "Email:PublicBaseUrl is required")]
    [InlineData("Email:PublicBaseUrl", "/relative", "Email:PublicBaseUrl must be an absolute http(s) URL")]
    [InlineData("Email:From", "not an address", "Email:From is not an email address")]
    [InlineData("Email:UserRateLimit:Limit", "0", "Email:UserRateLimit:Limit must be at least 1")]
    [InlineData("Email:Quota:DailyLimit", "0", "Email:Quota:DailyLimit must be at least 1")]
    [InlineData("Email:Quota:MonthlyLimit", "-1", "Email:Quota:MonthlyLimit must be at least 1")]
    [InlineData("Email:Unsubscribe:SigningKey", "short", "Email:Unsubscribe:SigningKey is 5 bytes long")]
    [InlineData("Email:Unsubscribe:SigningKey", null, "Email:Unsubscribe:SigningKey is required")]
    [InlineData("Alerts:SlackWebhookUrl", "not-a-url", "Alerts:SlackWebhookUrl")]
    public async Task Start_WithABadSetting_FailsNamingTheSetting(string key, string? value, string expected)
    {
        await AssertStartFailsAsync(new() { [key] = value }, expected);
    }

    [Theory]
    [InlineData("resend", "Email:Resend:ApiKey is required")]
    [InlineData("resend", "Email:From is required to send real email")]
    [InlineData("smtp", "Email:Smtp:Host is required")]
    [InlineData("smtp", "Email:From is required to send real email")]
    public async Task Start_RealProviderWithoutItsSettings_FailsNamingThem(string provider, string expected)
    {
        await AssertStartFailsAsync(new() { ["Email:EnableRealEmails"] = "true", ["Email:Provider"] = provider }, expected);
    }

    [Fact]
    public async Task Start_OutsideDevelopmentWithThePublishedUnsubscribeKey_Fails()
    {
        await AssertStartFailsAsync(
            new() { ["Email:Unsubscribe:SigningKey"] = UnsubscribeOptions.PublishedDevelopmentSigningKey },
            "Email:Unsubscribe:SigningKey is the published development key",
            environment: "Production");
    }

    private async Task AssertStartFailsAsync(Dictionary<string, string?> settings, string expected, string environment = "Development")
    {
        using var host = EmailChannelHost.Build(servers, _clock, settings, environment);

        var error = await Assert.ThrowsAnyAsync<Exception>(() => host.StartAsync(Cancellation));

        var messages = error is AggregateException aggregate
            ? string.Join(" | ", aggregate.Flatten().InnerExceptions.Select(inner => inner.Message))
            : error.Message;
        Assert.Contains(expected, messages);
    }
}
