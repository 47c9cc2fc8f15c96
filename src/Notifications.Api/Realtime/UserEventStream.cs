using System.Diagnostics.Metrics;
using System.Reflection;
using System.Text;
using System.Threading.Channels;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Notifications.Api.Apis.Inbox;
using Notifications.Domain.Messaging;
using Notifications.Domain.Persistence;

namespace Notifications.Api.Realtime;

/// <summary>
/// One user's Server-Sent-Events stream: each in-app notification as <c>id: &lt;notification id&gt;</c>,
/// <c>event: notification</c>, <c>data: &lt;InAppMessage JSON&gt;</c>, flushed at once, with heartbeat comments between.
/// </summary>
/// <remarks>
/// The order makes resuming lossless and duplicate-free: subscribe first (events from then on wait in the buffer), then
/// replay from the inbox what followed <c>Last-Event-ID</c>, then the live events, skipping ids already sent. After a
/// Redis outage the stream catches up from the inbox the same way, and a client too slow for its buffer is
/// disconnected, so that its reconnect with <c>Last-Event-ID</c> replays what it missed. The stream ends when the
/// client goes away or the host shuts down.
/// </remarks>
internal sealed partial class UserEventStream(string userId, Guid? lastEventId) : IResult, IEndpointMetadataProvider
{
    public const string ContentType = "text/event-stream";

    private const int ReplayBatchSize = 100;

    /// <summary>Ids a stream remembers having sent, to skip duplicates (replay overlapping live, a message published twice).</summary>
    private const int RememberedEventIds = 1024;

    private static readonly UpDownCounter<int> OpenStreams = ApiTelemetry.Meter.CreateUpDownCounter<int>(
        "notifications.api.event_streams.open", description: "Server-Sent-Events streams open in this process");

    private static readonly Counter<long> EventsSent = ApiTelemetry.Meter.CreateCounter<long>(
        "notifications.api.event_streams.events", description: "Notification events written to event streams");

    private static readonly byte[] HeartbeatBytes = ": heartbeat\n\n"u8.ToArray();

    private readonly RecentIds _sent = new(RememberedEventIds);

    /// <summary>The newest inbox position the client has (or had when it connected); catch-ups start after it.</summary>
    private InboxPosition? _position;

    /// <summary>Tells API descriptions (OpenAPI) that a 200 is an event stream.</summary>
    public static void PopulateMetadata(MethodInfo method, EndpointBuilder builder) =>
        builder.Metadata.Add(new ProducesResponseTypeMetadata(StatusCodes.Status200OK, typeof(string), [ContentType]));

    public async Task ExecuteAsync(HttpContext httpContext)
    {
        var services = httpContext.RequestServices;
        var hub = services.GetRequiredService<UserEventHub>();
        var options = services.GetRequiredService<IOptions<RealtimeOptions>>().Value;
        var timeProvider = services.GetRequiredService<TimeProvider>();
        var lifetime = services.GetRequiredService<IHostApplicationLifetime>();
        var logger = services.GetRequiredService<ILogger<UserEventStream>>();
        var db = services.GetRequiredService<NotificationsDbContext>();

        using var stopping = CancellationTokenSource.CreateLinkedTokenSource(httpContext.RequestAborted, lifetime.ApplicationStopping);
        var cancellationToken = stopping.Token;
        var connection = new Connection(options.StreamBufferSize);
        var response = httpContext.Response;

        OpenStreams.Add(1);
        Log.StreamOpened(logger, userId, lastEventId);
        try
        {
            await using var subscription = await hub.ListenAsync(userId, connection, cancellationToken);

            response.StatusCode = StatusCodes.Status200OK;
            response.ContentType = ContentType;
            response.Headers.CacheControl = "no-cache";
            // nginx (and proxies that honour it) would otherwise buffer the stream.
            response.Headers["X-Accel-Buffering"] = "no";
            httpContext.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();
            await response.Body.WriteAsync(": connected\n\n"u8.ToArray(), cancellationToken);
            await response.Body.FlushAsync(cancellationToken);

            await StartAsync(db, response, logger, cancellationToken);

            using var heartbeat = timeProvider.CreateTimer(
                static state => ((Connection)state!).Heartbeat(), connection, options.HeartbeatInterval, options.HeartbeatInterval);
            await foreach (var signal in connection.Signals.ReadAllAsync(cancellationToken))
            {
                switch (signal)
                {
                    case Signal.Message { Value: var message }:
                        await SendAsync(response, message, cancellationToken);
                        break;
                    case Signal.Heartbeat:
                        await response.Body.WriteAsync(HeartbeatBytes, cancellationToken);
                        await response.Body.FlushAsync(cancellationToken);
                        break;
                    case Signal.Resubscribed:
                        await CatchUpAsync(db, response, cancellationToken);
                        break;
                }
            }
            // The reader finishes only when the buffer overflowed.
            Log.StreamOverflowed(logger, userId, options.StreamBufferSize);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // The client went away or the host is stopping: the stream simply ends.
        }
        catch (IOException) when (httpContext.RequestAborted.IsCancellationRequested)
        {
            // The connection broke while writing.
        }
        finally
        {
            OpenStreams.Add(-1);
            Log.StreamClosed(logger, userId);
        }
    }

    /// <summary>Places the stream in the inbox: after <c>Last-Event-ID</c> (replaying what followed), else at the newest notification.</summary>
    private async Task StartAsync(NotificationsDbContext db, HttpResponse response, ILogger logger, CancellationToken cancellationToken)
    {
        var inbox = db.Notifications.AsNoTracking().Where(notification => notification.UserId == userId);
        if (lastEventId is { } resumeAfter)
        {
            // Archived or not: the position is what matters, and the client did receive that event.
            var last = await inbox.Where(notification => notification.Id == resumeAfter)
                .Select(notification => new { notification.CreatedAt, notification.Id })
                .FirstOrDefaultAsync(cancellationToken);
            if (last is not null)
            {
                _sent.Add(last.Id);
                _position = new InboxPosition(last.CreatedAt, last.Id);
                await CatchUpAsync(db, response, cancellationToken);
                return;
            }
            Log.UnknownLastEventId(logger, userId, resumeAfter);
            await response.Body.WriteAsync(": Last-Event-ID is not in your inbox; live events only\n\n"u8.ToArray(), cancellationToken);
        }

        var newest = await db.Notifications.AsNoTracking().InboxOf(userId).NewestFirst()
            .Select(notification => new { notification.CreatedAt, notification.Id })
            .FirstOrDefaultAsync(cancellationToken);
        _position = newest is null ? null : new InboxPosition(newest.CreatedAt, newest.Id);
    }

    /// <summary>Sends, oldest first, every inbox notification after the stream's position that it has not sent.</summary>
    private async Task CatchUpAsync(NotificationsDbContext db, HttpResponse response, CancellationToken cancellationToken)
    {
        var unread = await db.InboxCounters.UnreadCountOfAsync(userId, cancellationToken);
        while (true)
        {
            var batch = db.Notifications.AsNoTracking().InboxOf(userId);
            if (_position is { } position)
            {
                batch = batch.After(position);
            }
            var notifications = await batch.OldestFirst().Take(ReplayBatchSize).ToListAsync(cancellationToken);
            foreach (var notification in notifications)
            {
                await SendAsync(response, InboxNotification.From(notification).ToInAppMessage(unread), cancellationToken);
            }
            if (notifications.Count < ReplayBatchSize)
            {
                return;
            }
        }
    }

    private async Task SendAsync(HttpResponse response, InAppMessage message, CancellationToken cancellationToken)
    {
        var position = new InboxPosition(message.CreatedAt, message.Id);
        if (_position is null || position.CompareTo(_position.Value) > 0)
        {
            _position = position;
        }
        if (!_sent.Add(message.Id))
        {
            return;
        }
        // Serialized JSON has no raw line breaks, so the whole message fits on one data line.
        var frame = $"id: {message.Id}\nevent: {InAppMessage.EventName}\ndata: {message.ToJson()}\n\n";
        await response.Body.WriteAsync(Encoding.UTF8.GetBytes(frame), cancellationToken);
        await response.Body.FlushAsync(cancellationToken);
        EventsSent.Add(1);
    }

    private abstract record Signal
    {
        public sealed record Message(InAppMessage Value) : Signal;

        public sealed record Heartbeat : Signal
        {
            public static readonly Heartbeat Instance = new();
        }

        public sealed record Resubscribed : Signal
        {
            public static readonly Resubscribed Instance = new();
        }
    }

    /// <summary>The stream's buffer: the hub and the heartbeat timer write to it, the stream's loop alone reads it.</summary>
    private sealed class Connection(int capacity) : IUserEventListener
    {
        private readonly Channel<Signal> _signals = Channel.CreateBounded<Signal>(
            new BoundedChannelOptions(capacity) { SingleReader = true, FullMode = BoundedChannelFullMode.Wait });

        public ChannelReader<Signal> Signals => _signals.Reader;

        public void OnMessage(InAppMessage message)
        {
            if (!_signals.Writer.TryWrite(new Signal.Message(message)))
            {
                // Dropping one silently would lose it; closing makes the client reconnect and replay from the inbox.
                _signals.Writer.TryComplete();
            }
        }

        public void OnResubscribed() => _signals.Writer.TryWrite(Signal.Resubscribed.Instance);

        /// <summary>A full buffer already has something to send, so a heartbeat that does not fit is not needed.</summary>
        public void Heartbeat() => _signals.Writer.TryWrite(Signal.Heartbeat.Instance);
    }

    /// <summary>A set of the last <c>capacity</c> ids added.</summary>
    private sealed class RecentIds(int capacity)
    {
        private readonly HashSet<Guid> _ids = [];
        private readonly Queue<Guid> _order = new();

        /// <summary>False when the id is already in the set.</summary>
        public bool Add(Guid id)
        {
            if (!_ids.Add(id))
            {
                return false;
            }
            _order.Enqueue(id);
            if (_order.Count > capacity)
            {
                _ids.Remove(_order.Dequeue());
            }
            return true;
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 4110, Level = LogLevel.Debug, Message = "Event stream opened for user {UserId} (Last-Event-ID {LastEventId})")]
        public static partial void StreamOpened(ILogger logger, string userId, Guid? lastEventId);

        [LoggerMessage(EventId = 4111, Level = LogLevel.Debug, Message = "Event stream closed for user {UserId}")]
        public static partial void StreamClosed(ILogger logger, string userId);

        [LoggerMessage(EventId = 4112, Level = LogLevel.Warning,
            Message = "Event stream of user {UserId} fell {Capacity} events behind and was closed; the client's reconnect replays from the inbox")]
        public static partial void StreamOverflowed(ILogger logger, string userId, int capacity);

        [LoggerMessage(EventId = 4113, Level = LogLevel.Debug,
            Message = "Last-Event-ID {LastEventId} is not a notification of user {UserId}; the stream sends live events only")]
        public static partial void UnknownLastEventId(ILogger logger, string userId, Guid lastEventId);
    }
}
