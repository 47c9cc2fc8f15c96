using System.Diagnostics;
using System.Diagnostics.Metrics;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Notifications.Domain.Messaging;
using Notifications.Domain.Model;
using Notifications.Domain.Persistence;
using Notifications.Domain.Resilience;
using Npgsql;
using StackExchange.Redis;

namespace Notifications.Api.Outbox;

/// <summary>
/// Appends undispatched outbox rows that are due to their channel's Redis stream and marks them dispatched. Each batch is claimed
/// <c>FOR UPDATE SKIP LOCKED</c> in one transaction, so several API replicas can relay side by side without appending
/// a row twice. The relay wakes when this process committed rows (<see cref="OutboxWakeup"/>, in-process), on the
/// <see cref="OutboxSignal.ChannelName"/> notification other processes' writers raise, and every
/// <see cref="OutboxRelayOptions.PollInterval"/> in case a signal was missed or the listener is down — which is also
/// how a row due later (a scheduled retry) goes out, at most one poll interval after it fell due.
/// </summary>
/// <remarks>
/// Delivery is at least once: a crash (or a failed commit, or an XADD that timed out here but reached Redis) after
/// XADD and before the commit leaves the rows undispatched, so they are appended again later. That is acceptable
/// because workers re-check the job row before acting.
/// While Redis is down the batch rolls back, the rows stay undispatched and the relay backs off; the API keeps
/// accepting work, since writing it only needs Postgres.
/// </remarks>
internal sealed partial class OutboxRelay(
    IServiceScopeFactory scopeFactory,
    NpgsqlDataSource dataSource,
    OutboxRelayWake relayWake,
    IDatabase redis,
    IOptions<OutboxRelayOptions> options,
    TimeProvider timeProvider,
    ILogger<OutboxRelay> logger) : BackgroundService
{
    private static readonly ExponentialBackoff RetryDelay = new(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(30));
    private const int LastErrorMaxLength = 2000;

    /// <summary>How long one XADD may take before the batch counts as failed (Redis answers in about a millisecond).</summary>
    private static readonly TimeSpan RedisCommandTimeout = TimeSpan.FromSeconds(5);

    private static readonly Counter<long> DispatchedMessages = ApiTelemetry.Meter.CreateCounter<long>(
        "notifications.outbox.dispatched", unit: "{message}", description: "Outbox messages appended to their channel's stream.");

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var settings = options.Value;
        if (!settings.Enabled)
        {
            Log.Disabled(logger);
            return;
        }
        using var stopListening = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
        var listening = ListenAsync(settings.PollInterval, stopListening.Token);
        var consecutiveFailures = 0;
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                var dispatched = await TryDispatchBatchAsync(settings.BatchSize, stoppingToken);
                if (dispatched is null)
                {
                    consecutiveFailures++;
                    await Task.Delay(RetryDelay.DelayAfter(consecutiveFailures), timeProvider, stoppingToken);
                    continue;
                }
                consecutiveFailures = 0;
                if (dispatched == settings.BatchSize)
                {
                    continue;
                }

                await relayWake.WaitAsync(settings.PollInterval, stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        finally
        {
            await stopListening.CancelAsync();
            await listening;
        }
    }

    /// <summary>
    /// Keeps a connection LISTENing on <see cref="OutboxSignal.ChannelName"/> and wakes the relay on each notification,
    /// reconnecting with a back-off when the connection breaks (the relay polls meanwhile).
    /// </summary>
    private async Task ListenAsync(TimeSpan pollInterval, CancellationToken cancellationToken)
    {
        var consecutiveFailures = 0;
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
                connection.Notification += (_, _) => relayWake.Set();
                await OutboxSignal.ListenAsync(connection, cancellationToken);
                Log.Listening(logger, OutboxSignal.ChannelName);
                consecutiveFailures = 0;
                // A notification raised before this LISTEN was missed: look once now, so rows committed meanwhile do
                // not wait for the poll.
                relayWake.Set();
                while (true)
                {
                    await connection.WaitAsync(cancellationToken);
                }
            }
            catch (Exception) when (cancellationToken.IsCancellationRequested)
            {
                // Stopping: cancelling the wait may surface as an error of the connection as well.
                return;
            }
            catch (Exception exception)
            {
                Log.ListenFailed(logger, pollInterval, exception);
            }

            consecutiveFailures++;
            try
            {
                await Task.Delay(RetryDelay.DelayAfter(consecutiveFailures), timeProvider, cancellationToken);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
        }
    }

    /// <summary>Relays one batch; returns how many rows went out, or null when the batch failed (logged).</summary>
    private async Task<int?> TryDispatchBatchAsync(int batchSize, CancellationToken cancellationToken)
    {
        using var activity = ApiTelemetry.ActivitySource.StartActivity("outbox relay batch");
        await using var scope = scopeFactory.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<NotificationsDbContext>();
        IReadOnlyList<long> claimedIds = [];
        try
        {
            var strategy = db.Database.CreateExecutionStrategy();
            var dispatched = await strategy.ExecuteAsync(
                async token =>
                {
                    db.ChangeTracker.Clear();
                    await using var transaction = await db.Database.BeginTransactionAsync(token);
                    var now = timeProvider.GetUtcNow();
                    var claimed = await db.OutboxMessages
                        .FromSql($"""
                            SELECT * FROM outbox_messages
                            WHERE dispatched_at IS NULL AND available_at <= {now}
                            ORDER BY id LIMIT {batchSize} FOR UPDATE SKIP LOCKED
                            """)
                        .ToListAsync(token);
                    claimedIds = [.. claimed.Select(message => message.Id)];
                    var count = await AppendAsync(db, claimed, token);
                    await db.SaveChangesAsync(token);
                    await transaction.CommitAsync(token);
                    return count;
                },
                cancellationToken);

            activity?.SetTag("notifications.outbox.claimed", claimedIds.Count);
            activity?.SetTag("notifications.outbox.dispatched", dispatched);
            if (dispatched > 0)
            {
                Log.Dispatched(logger, dispatched);
            }
            return dispatched;
        }
        catch (Exception exception) when (exception is RedisException or TimeoutException)
        {
            activity?.SetStatus(ActivityStatusCode.Error, exception.Message);
            Log.RedisUnavailable(logger, claimedIds.Count, exception);
            await TryRecordFailedAttemptAsync(db, claimedIds, exception, cancellationToken);
            return null;
        }
        catch (Exception exception) when (exception is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            activity?.SetStatus(ActivityStatusCode.Error, exception.Message);
            Log.BatchFailed(logger, exception);
            return null;
        }
    }

    /// <summary>
    /// XADDs the claimed rows to their channels' streams, pipelined in id order on the one connection, then marks them
    /// dispatched with one UPDATE (in the caller's transaction). Malformed rows are left undispatched with the error
    /// recorded (saved by the caller).
    /// </summary>
    private async Task<int> AppendAsync(NotificationsDbContext db, List<OutboxMessage> claimed, CancellationToken cancellationToken)
    {
        var appends = new List<Task<RedisResult>>(claimed.Count);
        var appended = new List<long>(claimed.Count);
        var byChannel = new Dictionary<DeliveryChannel, int>();
        foreach (var row in claimed)
        {
            DeliveryMessage message;
            try
            {
                message = row.ToDeliveryMessage();
            }
            catch (FormatException exception)
            {
                // Left undispatched for an operator to repair; the rest of the batch still goes out.
                row.Attempts++;
                row.LastError = Truncate(exception.Message);
                Log.MalformedPayload(logger, row.Id, exception);
                continue;
            }

            var fields = message.ToStreamFields();
            var arguments = new object[2 + 2 * fields.Count];
            arguments[0] = DeliveryStreams.For(row.Channel);
            arguments[1] = "*";
            for (var index = 0; index < fields.Count; index++)
            {
                arguments[2 + 2 * index] = fields[index].Key;
                arguments[3 + 2 * index] = fields[index].Value;
            }
            appends.Add(redis.ExecuteAsync("XADD", arguments));
            appended.Add(row.Id);
            byChannel[row.Channel] = byChannel.GetValueOrDefault(row.Channel) + 1;
        }
        await Task.WhenAll(appends).WaitAsync(RedisCommandTimeout, timeProvider, cancellationToken);

        var now = timeProvider.GetUtcNow();
        await db.OutboxMessages
            .Where(message => appended.Contains(message.Id))
            .ExecuteUpdateAsync(update => update.SetProperty(message => message.DispatchedAt, now), cancellationToken);
        foreach (var (channel, count) in byChannel)
        {
            DispatchedMessages.Add(count, new KeyValuePair<string, object?>("notifications.channel", SnakeCaseEnum<DeliveryChannel>.ToName(channel)));
        }
        return appended.Count;
    }

    /// <summary>
    /// Counts the failed attempt on rows the rolled-back batch had claimed, in a short statement of its own. Rows another
    /// relay dispatched meanwhile are left alone.
    /// </summary>
    private async Task TryRecordFailedAttemptAsync(
        NotificationsDbContext db, IReadOnlyList<long> claimedIds, Exception failure, CancellationToken cancellationToken)
    {
        if (claimedIds.Count == 0)
        {
            return;
        }
        try
        {
            var lastError = Truncate($"{failure.GetType().Name}: {failure.Message}");
            db.ChangeTracker.Clear();
            await db.OutboxMessages
                .Where(message => claimedIds.Contains(message.Id) && message.DispatchedAt == null)
                .ExecuteUpdateAsync(
                    update => update
                        .SetProperty(message => message.Attempts, message => message.Attempts + 1)
                        .SetProperty(message => message.LastError, lastError),
                    cancellationToken);
        }
        catch (Exception exception) when (exception is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            Log.RecordAttemptFailed(logger, claimedIds.Count, exception);
        }
    }

    private static string Truncate(string text) => text.Length <= LastErrorMaxLength ? text : text[..LastErrorMaxLength];

    private static partial class Log
    {
        [LoggerMessage(EventId = 4001, Level = LogLevel.Debug, Message = "Appended {Count} outbox messages to their streams")]
        public static partial void Dispatched(ILogger logger, int count);

        [LoggerMessage(EventId = 4002, Level = LogLevel.Warning,
            Message = "Redis is unavailable: the batch of {Count} outbox messages was rolled back and stays undispatched")]
        public static partial void RedisUnavailable(ILogger logger, int count, Exception exception);

        [LoggerMessage(EventId = 4003, Level = LogLevel.Error, Message = "An outbox relay batch failed; retrying")]
        public static partial void BatchFailed(ILogger logger, Exception exception);

        [LoggerMessage(EventId = 4004, Level = LogLevel.Information, Message = "Outbox relay listening on Postgres channel {Channel}")]
        public static partial void Listening(ILogger logger, string channel);

        [LoggerMessage(EventId = 4005, Level = LogLevel.Warning,
            Message = "Outbox relay cannot listen for Postgres notifications; polling every {PollInterval} until it reconnects")]
        public static partial void ListenFailed(ILogger logger, TimeSpan pollInterval, Exception exception);

        [LoggerMessage(EventId = 4006, Level = LogLevel.Error, Message = "Outbox message {Id} has a malformed payload and stays undispatched")]
        public static partial void MalformedPayload(ILogger logger, long id, Exception exception);

        [LoggerMessage(EventId = 4007, Level = LogLevel.Warning, Message = "Could not count the failed attempt on {Count} outbox messages")]
        public static partial void RecordAttemptFailed(ILogger logger, int count, Exception exception);

        [LoggerMessage(EventId = 4008, Level = LogLevel.Information, Message = "The outbox relay is disabled on this replica (Outbox:Enabled = false)")]
        public static partial void Disabled(ILogger logger);
    }
}
