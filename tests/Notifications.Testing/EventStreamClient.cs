using System.Net;
using Xunit;

namespace Notifications.Testing;

/// <summary>One Server-Sent-Events frame: the fields of an event, or only comments (heartbeats, notes).</summary>
public sealed record EventFrame(string? Id, string? Event, string? Data, IReadOnlyList<string> Comments)
{
    public bool IsEvent => Data is not null;
}

/// <summary>Reads a <c>text/event-stream</c> response frame by frame, as a browser's EventSource parses it.</summary>
public sealed class EventStreamClient : IAsyncDisposable
{
    /// <summary>Generous: a deadline for something that should arrive, not a measure of how fast it does.</summary>
    public static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);

    private readonly StreamReader _reader;

    private EventStreamClient(HttpResponseMessage response, Stream body)
    {
        Response = response;
        _reader = new StreamReader(body);
    }

    public HttpResponseMessage Response { get; }

    /// <summary>Opens the stream and, when it answers 200, reads up to the first frame (sent once the stream is subscribed).</summary>
    public static async Task<EventStreamClient> OpenAsync(HttpClient client, string route, string? lastEventId = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, route);
        request.Headers.Accept.ParseAdd("text/event-stream");
        if (lastEventId is not null)
        {
            request.Headers.Add("Last-Event-ID", lastEventId);
        }
        var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, TestContext.Current.CancellationToken);
        var stream = new EventStreamClient(response, await response.Content.ReadAsStreamAsync(TestContext.Current.CancellationToken));
        if (response.StatusCode == HttpStatusCode.OK)
        {
            var first = await stream.ReadFrameAsync();
            if (first is null || !first.Comments.Contains("connected"))
            {
                throw new InvalidOperationException($"The event stream did not open with ': connected' (first frame: {first?.ToString() ?? "none, the stream ended"}).");
            }
        }
        return stream;
    }

    /// <summary>The next frame, or null when the server ended the stream.</summary>
    public async Task<EventFrame?> ReadFrameAsync()
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        deadline.CancelAfter(Deadline);
        string? id = null, eventName = null, data = null;
        var comments = new List<string>();
        var any = false;
        while (await _reader.ReadLineAsync(deadline.Token) is { } line)
        {
            if (line.Length == 0)
            {
                if (any)
                {
                    return new EventFrame(id, eventName, data, comments);
                }
                continue;
            }
            any = true;
            var colon = line.IndexOf(':');
            var (field, value) = colon < 0 ? (line, "") : (line[..colon], line[(colon + 1)..].TrimStart(' '));
            switch (field)
            {
                case "": comments.Add(value); break;
                case "id": id = value; break;
                case "event": eventName = value; break;
                case "data": data = data is null ? value : $"{data}\n{value}"; break;
            }
        }
        return null;
    }

    /// <summary>The next event, skipping comment frames; fails if the stream ends first.</summary>
    public async Task<EventFrame> ReadEventAsync()
    {
        while (true)
        {
            var frame = await ReadFrameAsync() ?? throw new InvalidOperationException("The stream ended before the expected event.");
            if (frame.IsEvent)
            {
                return frame;
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        _reader.Dispose();
        Response.Dispose();
        await Task.CompletedTask;
    }
}
