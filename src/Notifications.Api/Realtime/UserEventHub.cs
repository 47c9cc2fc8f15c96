using System.Text.Json;
using Notifications.Domain.Messaging;
using Notifications.Domain.Redis;
using StackExchange.Redis;

namespace Notifications.Api.Realtime;

/// <summary>What an open event stream hears from the <see cref="UserEventHub"/>. Called on Redis's threads: must not block.</summary>
internal interface IUserEventListener
{
    void OnMessage(InAppMessage message);

    /// <summary>Redis's subscription connection is back after an outage; events published meanwhile may have been missed.</summary>
    void OnResubscribed();
}

/// <summary>
/// Relays each user's Redis pub/sub channel (<see cref="RedisKeys.UserEvents"/>) to that user's open event streams in
/// this process, with one Redis subscription per user however many streams the user has open: the first stream
/// subscribes, the last one to close unsubscribes. Channels are subscribed by exact name, never by pattern, so a
/// replica receives only the events of users connected to it.
/// </summary>
/// <remarks>
/// Each <see cref="UserChannel"/> has its own handler delegate, and SUBSCRIBE/UNSUBSCRIBE are issued inside the lock,
/// so a user whose last stream closes while a new one opens ends up subscribed exactly once: the client library keeps
/// the channel subscribed while any handler remains, and sends the two commands in the order they were issued. The
/// library also re-subscribes after Redis restarts, and subscriptions made while Redis is down take effect once it
/// answers.
/// </remarks>
internal sealed partial class UserEventHub : IDisposable
{
    private readonly IConnectionMultiplexer _redis;
    private readonly ILogger<UserEventHub> _logger;
    private readonly Lock _gate = new();
    private readonly Dictionary<string, UserChannel> _channels = new(StringComparer.Ordinal);

    public UserEventHub(IConnectionMultiplexer redis, ILogger<UserEventHub> logger)
    {
        _redis = redis;
        _logger = logger;
        _redis.ConnectionFailed += OnConnectionFailed;
        _redis.ConnectionRestored += OnConnectionRestored;
    }

    /// <summary>Users with at least one open stream in this process (each is one Redis subscription).</summary>
    public int SubscribedUsers
    {
        get
        {
            lock (_gate)
            {
                return _channels.Count;
            }
        }
    }

    /// <summary>
    /// Starts delivering <paramref name="userId"/>'s events to <paramref name="listener"/> until the returned lease is
    /// disposed. Completes once Redis has confirmed the subscription, or at once while Redis is unreachable (the
    /// subscription then takes effect when it returns).
    /// </summary>
    public async Task<IAsyncDisposable> ListenAsync(string userId, IUserEventListener listener, CancellationToken cancellationToken)
    {
        UserChannel channel;
        lock (_gate)
        {
            if (!_channels.TryGetValue(userId, out channel!))
            {
                channel = new UserChannel(this, userId);
                _channels.Add(userId, channel);
                channel.Subscribed = SubscribeAsync(channel);
            }
            channel.Listeners = [.. channel.Listeners, listener];
        }

        var lease = new Lease(this, channel, listener);
        try
        {
            await channel.Subscribed.WaitAsync(cancellationToken);
        }
        catch
        {
            await lease.DisposeAsync();
            throw;
        }
        return lease;
    }

    private async Task SubscribeAsync(UserChannel channel)
    {
        try
        {
            await _redis.GetSubscriber().SubscribeAsync(channel.RedisChannel, channel.Handler);
        }
        catch (Exception exception) when (exception is RedisException or TimeoutException)
        {
            // The library keeps the subscription and sends it when the connection is back; the stream heartbeats meanwhile.
            Log.SubscribeFailed(_logger, exception, channel.UserId);
        }
    }

    private async ValueTask ReleaseAsync(UserChannel channel, IUserEventListener listener)
    {
        Task? unsubscribed = null;
        lock (_gate)
        {
            channel.Listeners = [.. channel.Listeners.Where(other => other != listener)];
            if (channel.Listeners.Length == 0 && _channels.Remove(channel.UserId))
            {
                unsubscribed = UnsubscribeAsync(channel);
            }
        }
        if (unsubscribed is not null)
        {
            await unsubscribed;
        }
    }

    private async Task UnsubscribeAsync(UserChannel channel)
    {
        try
        {
            await _redis.GetSubscriber().UnsubscribeAsync(channel.RedisChannel, channel.Handler);
        }
        catch (Exception exception)
        {
            // Clean-up must not fail the request; the client library has dropped the handler before sending UNSUBSCRIBE
            // (and throws from inside when the host is shutting down), so at worst Redis keeps sending to this
            // connection messages nobody handles until it drops.
            Log.UnsubscribeFailed(_logger, exception, channel.UserId);
        }
    }

    /// <summary>Parses once per message, then hands it to every stream of the user.</summary>
    private void Dispatch(UserChannel channel, RedisValue value)
    {
        InAppMessage message;
        try
        {
            message = InAppMessage.FromJson(value.ToString());
        }
        catch (JsonException exception)
        {
            Log.MalformedMessage(_logger, exception, channel.UserId);
            return;
        }
        foreach (var listener in channel.Listeners)
        {
            listener.OnMessage(message);
        }
    }

    private void OnConnectionFailed(object? sender, ConnectionFailedEventArgs args)
    {
        if (args.ConnectionType == ConnectionType.Subscription)
        {
            Log.SubscriptionConnectionLost(_logger, args.FailureType.ToString(), SubscribedUsers);
        }
    }

    private void OnConnectionRestored(object? sender, ConnectionFailedEventArgs args)
    {
        if (args.ConnectionType != ConnectionType.Subscription)
        {
            return;
        }
        UserChannel[] channels;
        lock (_gate)
        {
            channels = [.. _channels.Values];
        }
        Log.SubscriptionConnectionRestored(_logger, channels.Length);
        foreach (var listener in channels.SelectMany(channel => channel.Listeners))
        {
            listener.OnResubscribed();
        }
    }

    public void Dispose()
    {
        _redis.ConnectionFailed -= OnConnectionFailed;
        _redis.ConnectionRestored -= OnConnectionRestored;
    }

    private sealed class UserChannel
    {
        public UserChannel(UserEventHub hub, string userId)
        {
            UserId = userId;
            // Literal: a user id containing '*' or '?' must not turn into a pattern subscription.
            RedisChannel = new RedisChannel(RedisKeys.UserEvents(userId), RedisChannel.PatternMode.Literal);
            Handler = (_, value) => hub.Dispatch(this, value);
        }

        public string UserId { get; }

        public RedisChannel RedisChannel { get; }

        public Action<RedisChannel, RedisValue> Handler { get; }

        /// <summary>Replaced under the hub's lock, read without it by <see cref="Dispatch"/>.</summary>
        public IUserEventListener[] Listeners
        {
            get => Volatile.Read(ref _listeners);
            set => Volatile.Write(ref _listeners, value);
        }

        private IUserEventListener[] _listeners = [];

        public Task Subscribed { get; set; } = Task.CompletedTask;
    }

    private sealed class Lease(UserEventHub hub, UserChannel channel, IUserEventListener listener) : IAsyncDisposable
    {
        private int _disposed;

        public ValueTask DisposeAsync() =>
            Interlocked.Exchange(ref _disposed, 1) == 0 ? hub.ReleaseAsync(channel, listener) : ValueTask.CompletedTask;
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 4101, Level = LogLevel.Warning,
            Message = "Could not subscribe to the events of user {UserId} yet; the subscription is sent when Redis answers")]
        public static partial void SubscribeFailed(ILogger logger, Exception exception, string userId);

        [LoggerMessage(EventId = 4102, Level = LogLevel.Debug, Message = "Could not unsubscribe from the events of user {UserId}")]
        public static partial void UnsubscribeFailed(ILogger logger, Exception exception, string userId);

        [LoggerMessage(EventId = 4103, Level = LogLevel.Warning, Message = "Dropped a malformed real-time message for user {UserId}")]
        public static partial void MalformedMessage(ILogger logger, Exception exception, string userId);

        [LoggerMessage(EventId = 4104, Level = LogLevel.Warning,
            Message = "Redis subscription connection lost ({FailureType}); {Users} users' streams keep heartbeating until it is back")]
        public static partial void SubscriptionConnectionLost(ILogger logger, string failureType, int users);

        [LoggerMessage(EventId = 4105, Level = LogLevel.Information,
            Message = "Redis subscription connection restored; {Users} users' streams catch up from the inbox")]
        public static partial void SubscriptionConnectionRestored(ILogger logger, int users);
    }
}
