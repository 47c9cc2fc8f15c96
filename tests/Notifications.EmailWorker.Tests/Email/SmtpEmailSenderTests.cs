using Microsoft.Extensions.Time.Testing;
using MimeKit;
using Notifications.EmailWorker.Delivery;
using Notifications.Testing.Fakes;

namespace Notifications.EmailWorker.Tests.Email;

/// <summary>Email through SMTP (MailKit) to a fake SMTP server: the message, its headers, and 4xx/5xx/connection failures.</summary>
[Collection(WorkerTestCollection.Name)]
public sealed class SmtpEmailSenderTests(TestServers servers) : IAsyncLifetime
{
    private static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    private readonly FakeTimeProvider _clock = EmailChannelHost.FreshMonthClock();
    private readonly FakeSmtpServer _smtp = FakeSmtpServer.Start();
    private EmailChannelHost _host = null!;
    private EmailTestData _data = null!;

    public async ValueTask InitializeAsync()
    {
        _host = await EmailChannelHost.StartAsync(servers, _clock, Settings(_smtp.Port));
        _data = new EmailTestData(servers, _clock);
    }

    public async ValueTask DisposeAsync()
    {
        await _host.DisposeAsync();
        await _smtp.DisposeAsync();
    }

    [Fact]
    public async Task Accepted_IsSentWithTheMessageIdAndCarriesBothBodiesAndTheUnsubscribeHeaders()
    {
        var attempt = await _data.EmailAsync(await _data.UserAsync(displayName: "Ada"), title: "Deploy <done>");

        var sent = Assert.IsType<DeliveryResult.Sent>(await _host.Deliverer.DeliverAsync(attempt, Cancellation));

        var received = Assert.Single(_smtp.Messages);
        Assert.Equal("notifications@acme.test", received.MailFrom);
        Assert.Equal([$"{attempt.Job.UserId}@example.test"], received.Recipients);
        var message = MimeMessage.Load(new MemoryStream(System.Text.Encoding.UTF8.GetBytes(received.Data)), Cancellation);
        Assert.Equal($"{attempt.IdempotencyKey}@acme.test", message.MessageId);
        Assert.Equal(message.MessageId, sent.ProviderMessageId);
        Assert.Equal("smtp", sent.Provider);
        Assert.Equal("Deploy <done>", message.Subject);
        Assert.Equal("Ada", message.To.Mailboxes.Single().Name);
        Assert.Contains("Deploy &lt;done&gt;", message.HtmlBody);
        Assert.Contains("Deploy <done>", message.TextBody);
        Assert.StartsWith($"<{EmailChannelHost.PublicBaseUrl}api/unsubscribe?token=", message.Headers["List-Unsubscribe"]);
        Assert.Equal("List-Unsubscribe=One-Click", message.Headers["List-Unsubscribe-Post"]);
    }

    [Fact]
    public async Task SeveralEmails_ReuseOneConnection()
    {
        var user = await _data.UserAsync();
        foreach (var attempt in await _data.EmailsAsync(user, 3))
        {
            Assert.IsType<DeliveryResult.Sent>(await _host.Deliverer.DeliverAsync(attempt, Cancellation));
        }

        Assert.Equal(3, _smtp.Messages.Count);
        Assert.Equal(1, _smtp.Connections);
    }

    [Fact]
    public async Task Reply4xx_IsTransient()
    {
        _smtp.FailNext(1, SmtpStage.MailFrom, "451 4.3.0 Temporary local problem, try again later");

        var failure = Assert.IsType<DeliveryResult.TransientFailure>(await DeliverAsync());

        Assert.Contains("451", failure.Error);
        Assert.Empty(_smtp.Messages);
        // The next email goes out on a fresh connection.
        Assert.IsType<DeliveryResult.Sent>(await DeliverAsync());
    }

    [Fact]
    public async Task Reply5xxAfterTheData_IsPermanent()
    {
        _smtp.FailNext(1, SmtpStage.EndOfData, "550 5.7.1 Message rejected as spam");

        var failure = Assert.IsType<DeliveryResult.PermanentFailure>(await DeliverAsync());

        Assert.Contains("550", failure.Error);
        Assert.Contains("rejected as spam", failure.ResponseExcerpt);
        Assert.Empty(_smtp.Messages);
    }

    [Fact]
    public async Task Unreachable_IsTransient()
    {
        await using var host = await EmailChannelHost.StartAsync(servers, _clock, Settings(ResendEmailSenderTests.ClosedPort()));
        var attempt = await _data.EmailAsync(await _data.UserAsync());

        var failure = Assert.IsType<DeliveryResult.TransientFailure>(await host.Deliverer.DeliverAsync(attempt, Cancellation));

        Assert.Contains("could not be reached", failure.Error);
    }

    private async Task<DeliveryResult> DeliverAsync() =>
        await _host.Deliverer.DeliverAsync(await _data.EmailAsync(await _data.UserAsync()), Cancellation);

    private static Dictionary<string, string?> Settings(int port) => new()
    {
        ["Email:EnableRealEmails"] = "true",
        ["Email:Provider"] = "smtp",
        ["Email:From"] = "Acme <notifications@acme.test>",
        ["Email:Smtp:Host"] = "127.0.0.1",
        ["Email:Smtp:Port"] = $"{port}",
        ["Email:Smtp:Security"] = "None",
        ["Email:Smtp:Timeout"] = "00:00:05",
    };
}
