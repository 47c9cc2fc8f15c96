using System.Collections.Concurrent;
using System.Net.Sockets;
using MailKit;
using MailKit.Net.Smtp;
using MailKit.Security;
using Microsoft.Extensions.Options;
using MimeKit;
using Notifications.EmailWorker.Delivery;

namespace Notifications.EmailWorker.Email.Providers;

/// <summary>
/// Sends through an SMTP relay with MailKit, over up to <see cref="SmtpOptions.MaxConnections"/> connections kept open
/// between emails. Replies map as SMTP means them: 4xx → transient, 5xx → permanent; a connection that fails or times
/// out → transient. The <c>Message-Id</c> (job id @ the sender's domain) is the provider message id.
/// </summary>
internal sealed class SmtpEmailSender : IEmailSender, IAsyncDisposable
{
    private const int MaximumExcerptLength = 500;

    /// <summary>A connection idle longer than this is checked with NOOP before use: servers drop idle sessions.</summary>
    private static readonly TimeSpan IdleCheckAfter = TimeSpan.FromSeconds(15);

    private readonly SmtpOptions _options;
    private readonly TimeProvider _timeProvider;
    private readonly ConcurrentBag<(SmtpClient Client, long IdleSince)> _idle = [];
    private readonly SemaphoreSlim _connections;

    public SmtpEmailSender(IOptions<EmailOptions> options, TimeProvider timeProvider)
    {
        _options = options.Value.Smtp;
        _timeProvider = timeProvider;
        _connections = new SemaphoreSlim(_options.MaxConnections, _options.MaxConnections);
    }

    public string Name => EmailOptions.SmtpProvider;

    public async Task<DeliveryResult> SendAsync(EmailMessage message, CancellationToken cancellationToken)
    {
        var mime = ToMime(message);
        await _connections.WaitAsync(cancellationToken);
        SmtpClient? client = null;
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_options.Timeout);
        try
        {
            client = await ConnectedClientAsync(timeout.Token);
            var reply = await client.SendAsync(mime, timeout.Token);
            _idle.Add((client, _timeProvider.GetTimestamp()));
            client = null;
            return new DeliveryResult.Sent(Name, mime.MessageId, ResponseExcerpt: Excerpt(reply));
        }
        catch (SmtpCommandException exception) when (!cancellationToken.IsCancellationRequested)
        {
            var code = (int)exception.StatusCode;
            var error = $"The SMTP server answered {code}: {exception.Message}";
            return code is >= 400 and < 500
                ? new DeliveryResult.TransientFailure(Name, error, ResponseExcerpt: Excerpt(exception.Message))
                : new DeliveryResult.PermanentFailure(Name, error, ResponseExcerpt: Excerpt(exception.Message));
        }
        catch (AuthenticationException exception) when (!cancellationToken.IsCancellationRequested)
        {
            // Wrong credentials: retrying with the same settings cannot succeed.
            return new DeliveryResult.PermanentFailure(Name, $"The SMTP server refused the credentials: {exception.Message}");
        }
        catch (Exception exception) when (!cancellationToken.IsCancellationRequested
            && exception is OperationCanceledException or IOException or SocketException or SmtpProtocolException
                or ServiceNotConnectedException or SslHandshakeException or TimeoutException)
        {
            var error = timeout.IsCancellationRequested
                ? $"The SMTP server did not answer within {_options.Timeout.TotalSeconds:0.###} s"
                : $"The SMTP server could not be reached: {exception.Message}";
            return new DeliveryResult.TransientFailure(Name, error);
        }
        finally
        {
            if (client is not null)
            {
                // After a failure the session's state is unknown: never reuse it.
                client.Dispose();
            }
            _connections.Release();
        }
    }

    private async Task<SmtpClient> ConnectedClientAsync(CancellationToken cancellationToken)
    {
        while (_idle.TryTake(out var idle))
        {
            if (idle.Client.IsConnected && await IsAliveAsync(idle.Client, idle.IdleSince, cancellationToken))
            {
                return idle.Client;
            }
            idle.Client.Dispose();
        }
        var client = new SmtpClient { Timeout = (int)_options.Timeout.TotalMilliseconds };
        try
        {
            await client.ConnectAsync(_options.Host!, _options.Port, _options.Security, cancellationToken);
            if (!string.IsNullOrEmpty(_options.Username))
            {
                await client.AuthenticateAsync(_options.Username, _options.Password ?? "", cancellationToken);
            }
            return client;
        }
        catch
        {
            client.Dispose();
            throw;
        }
    }

    private async Task<bool> IsAliveAsync(SmtpClient client, long idleSince, CancellationToken cancellationToken)
    {
        if (_timeProvider.GetElapsedTime(idleSince) < IdleCheckAfter)
        {
            return true;
        }
        try
        {
            await client.NoOpAsync(cancellationToken);
            return true;
        }
        catch (Exception exception) when (exception is not OperationCanceledException)
        {
            return false;
        }
    }

    internal static MimeMessage ToMime(EmailMessage message)
    {
        var from = MailboxAddress.Parse(message.From);
        var mime = new MimeMessage
        {
            Subject = message.Subject,
            MessageId = $"{message.IdempotencyKey}@{Domain(from.Address)}",
            Body = new BodyBuilder { TextBody = message.Text, HtmlBody = message.Html }.ToMessageBody(),
        };
        mime.From.Add(from);
        mime.To.Add(new MailboxAddress(message.ToName ?? "", message.To));
        foreach (var (name, value) in message.Headers)
        {
            mime.Headers.Add(name, value);
        }
        return mime;
    }

    private static string Domain(string address) => address[(address.LastIndexOf('@') + 1)..] is { Length: > 0 } domain ? domain : "localhost";

    private static string? Excerpt(string? text) =>
        string.IsNullOrEmpty(text) ? null : text.Length <= MaximumExcerptLength ? text : text[..MaximumExcerptLength];

    public ValueTask DisposeAsync()
    {
        while (_idle.TryTake(out var idle))
        {
            idle.Client.Dispose();
        }
        _connections.Dispose();
        return ValueTask.CompletedTask;
    }
}
