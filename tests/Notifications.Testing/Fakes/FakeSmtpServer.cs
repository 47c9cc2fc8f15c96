using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Notifications.Testing.Fakes;

/// <summary>A message the fake SMTP server accepted: the envelope and the raw message (dot-unstuffed).</summary>
public sealed record SmtpReceivedMessage(string MailFrom, IReadOnlyList<string> Recipients, string Data);

/// <summary>Where in a mail transaction a scripted reply answers.</summary>
public enum SmtpStage
{
    /// <summary>The reply to <c>MAIL FROM</c>.</summary>
    MailFrom,

    /// <summary>The reply after the message data (<c>.</c>).</summary>
    EndOfData,
}

/// <summary>
/// A minimal SMTP server on a free loopback port, enough for a real client: <c>EHLO</c>/<c>HELO</c>, <c>MAIL</c>,
/// <c>RCPT</c>, <c>DATA</c>, <c>RSET</c>, <c>NOOP</c>, <c>QUIT</c>, no TLS and no authentication. It keeps what it
/// accepted, and answers the next transactions with scripted replies (e.g. <c>451</c> or <c>550</c>) when told to.
/// </summary>
public sealed class FakeSmtpServer : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stopping = new();
    private readonly ConcurrentQueue<SmtpReceivedMessage> _messages = new();
    private readonly ConcurrentQueue<(SmtpStage Stage, string Reply)> _scripted = new();
    private readonly List<Task> _sessions = [];
    private Task _accepting = Task.CompletedTask;
    private int _connections;

    private FakeSmtpServer()
    {
    }

    public string Host => "127.0.0.1";

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    /// <summary>Every message accepted, oldest first.</summary>
    public IReadOnlyList<SmtpReceivedMessage> Messages => [.. _messages];

    /// <summary>How many connections clients opened.</summary>
    public int Connections => Volatile.Read(ref _connections);

    public static FakeSmtpServer Start()
    {
        var server = new FakeSmtpServer();
        server._listener.Start();
        server._accepting = server.AcceptAsync();
        return server;
    }

    /// <summary>The next <paramref name="count"/> transactions get <paramref name="reply"/> (e.g. <c>451 4.3.0 Try again later</c>) at <paramref name="stage"/>.</summary>
    public void FailNext(int count, SmtpStage stage, string reply)
    {
        for (var i = 0; i < count; i++)
        {
            _scripted.Enqueue((stage, reply));
        }
    }

    private async Task AcceptAsync()
    {
        while (!_stopping.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await _listener.AcceptTcpClientAsync(_stopping.Token);
            }
            catch (Exception exception) when (exception is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                return;
            }
            Interlocked.Increment(ref _connections);
            lock (_sessions)
            {
                _sessions.Add(ServeAsync(client));
            }
        }
    }

    private async Task ServeAsync(TcpClient client)
    {
        using var _ = client;
        var cancellationToken = _stopping.Token;
        try
        {
            var stream = client.GetStream();
            using var reader = new StreamReader(stream, new UTF8Encoding(false), leaveOpen: true);
            await using var writer = new StreamWriter(stream, new UTF8Encoding(false), leaveOpen: true) { NewLine = "\r\n", AutoFlush = true };
            await writer.WriteLineAsync("220 fake.smtp.test ESMTP ready");
            string? mailFrom = null;
            var recipients = new List<string>();
            (SmtpStage Stage, string Reply)? script = null;
            while (await reader.ReadLineAsync(cancellationToken) is { } line)
            {
                var verb = line.Split(' ', 2)[0].ToUpperInvariant();
                switch (verb)
                {
                    case "EHLO":
                        await writer.WriteAsync("250-fake.smtp.test greets you\r\n250-8BITMIME\r\n250 SIZE 10485760\r\n");
                        break;
                    case "HELO":
                    case "NOOP":
                        await writer.WriteLineAsync("250 2.0.0 Ok");
                        break;
                    case "RSET":
                        (mailFrom, script) = (null, null);
                        recipients.Clear();
                        await writer.WriteLineAsync("250 2.0.0 Ok");
                        break;
                    case "MAIL":
                        script = _scripted.TryDequeue(out var next) ? next : null;
                        if (script is { Stage: SmtpStage.MailFrom } refusal)
                        {
                            script = null;
                            await writer.WriteLineAsync(refusal.Reply);
                            break;
                        }
                        mailFrom = Address(line);
                        recipients.Clear();
                        await writer.WriteLineAsync("250 2.1.0 Ok");
                        break;
                    case "RCPT" when mailFrom is not null:
                        recipients.Add(Address(line));
                        await writer.WriteLineAsync("250 2.1.5 Ok");
                        break;
                    case "DATA" when mailFrom is not null && recipients.Count > 0:
                        await writer.WriteLineAsync("354 End data with <CR><LF>.<CR><LF>");
                        var data = new StringBuilder();
                        while (await reader.ReadLineAsync(cancellationToken) is { } dataLine && dataLine != ".")
                        {
                            data.Append(dataLine.StartsWith("..", StringComparison.Ordinal) ? dataLine[1..] : dataLine).Append("\r\n");
                        }
                        if (script is { Stage: SmtpStage.EndOfData } dataRefusal)
                        {
                            await writer.WriteLineAsync(dataRefusal.Reply);
                        }
                        else
                        {
                            _messages.Enqueue(new SmtpReceivedMessage(mailFrom, [.. recipients], data.ToString()));
                            await writer.WriteLineAsync($"250 2.0.0 Ok: queued as {Guid.NewGuid():N}");
                        }
                        (mailFrom, script) = (null, null);
                        recipients.Clear();
                        break;
                    case "RCPT":
                    case "DATA":
                        await writer.WriteLineAsync("503 5.5.1 Bad sequence of commands");
                        break;
                    case "QUIT":
                        await writer.WriteLineAsync("221 2.0.0 Bye");
                        return;
                    default:
                        await writer.WriteLineAsync("502 5.5.2 Command not recognized");
                        break;
                }
            }
        }
        catch (Exception exception) when (exception is IOException or OperationCanceledException or ObjectDisposedException)
        {
            // The client hung up, or the server is stopping.
        }
    }

    /// <summary><c>MAIL FROM:&lt;a@b&gt; BODY=8BITMIME</c> → <c>a@b</c>.</summary>
    private static string Address(string line)
    {
        var start = line.IndexOf('<', StringComparison.Ordinal);
        var end = line.IndexOf('>', StringComparison.Ordinal);
        return start >= 0 && end > start ? line[(start + 1)..end] : line;
    }

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync();
        _listener.Stop();
        await _accepting;
        Task[] sessions;
        lock (_sessions)
        {
            sessions = [.. _sessions];
        }
        await Task.WhenAll(sessions);
        _stopping.Dispose();
    }
}
