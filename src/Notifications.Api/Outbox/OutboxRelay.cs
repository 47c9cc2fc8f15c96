using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Text.Json;
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
    NpgsqlDataSource dataSource,
    OutboxRelayWake relayWake,
    IDatabase redis,
    IOptions<OutboxRelayOptions> options,
    TimeProvider timeProvider,
    ILogger<OutboxRelay> logger) : BackgroundService
{
    private static readonly ExponentialBackoff RetryDelay = new(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(30));
    private const int LastErrorMaxLength = 2000;

    /// <summary>How long the listening connection may stay silent before it is checked with a query.</summary>
    private static readonly TimeSpan ListenerCheckInterval = TimeSpan.FromSeconds(30);

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
                    if (!await connection.WaitAsync(ListenerCheckInterval, cancellationToken))
                    {
                        // Quiet for a while: prove the connection still answers, since one dropped silently on the way
                        // (no FIN, no RST) would otherwise be waited on forever while the relay only polls.
                        await using var check = new NpgsqlCommand("SELECT 1", connection);
                        await check.ExecuteScalarAsync(cancellationToken);
                    }
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
    /// <remarks>
    /// One transaction: claim and mark the rows in one statement, XADD them, un-mark the malformed ones, commit. Any
    /// failure before the commit rolls the marks back, so the rows go out again later.
    /// The commit does not wait for its WAL flush (<c>synchronous_commit = off</c>): losing it in a Postgres crash only
    /// leaves rows undispatched that are already in their streams, and appending them again is harmless (at least once,
    /// see above), while waiting for the flush put a disk write between every send and its delivery.
    /// </remarks>
    private async Task<int?> TryDispatchBatchAsync(int batchSize, CancellationToken cancellationToken)
    {
        using var activity = ApiTelemetry.ActivitySource.StartActivity("outbox relay batch");
        IReadOnlyList<OutboxMessage> claimed = [];
        try
        {
            await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
            await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
            var now = timeProvider.GetUtcNow();
            claimed = await ClaimAsync(connection, batchSize, now, cancellationToken);
            var (dispatched, malformed) = await AppendAsync(claimed, cancellationToken);
            if (malformed.Count > 0)
            {
                await LeaveUndispatchedAsync(connection, malformed, now, cancellationToken);
            }
            await transaction.CommitAsync(cancellationToken);

            activity?.SetTag("notifications.outbox.claimed", claimed.Count);
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
            Log.RedisUnavailable(logger, claimed.Count, exception);
            await TryRecordFailedAttemptAsync(claimed, exception, cancellationToken);
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
    /// Claims up to <paramref name="batchSize"/> undispatched rows that are due, oldest first, skipping rows another relay
    /// holds, and marks them dispatched; in the caller's transaction, with an asynchronous commit (see above).
    /// </summary>
    private static async Task<IReadOnlyList<OutboxMessage>> ClaimAsync(
        NpgsqlConnection connection, int batchSize, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var batch = new NpgsqlBatch(connection)
        {
            BatchCommands =
            {
                new NpgsqlBatchCommand("SET LOCAL synchronous_commit = off"),
                new NpgsqlBatchCommand("""
                    UPDATE outbox_messages SET dispatched_at = $1
                    WHERE id IN (
                        SELECT id FROM outbox_messages
                        WHERE dispatched_at IS NULL AND available_at <= $1
                        ORDER BY id LIMIT $2 FOR UPDATE SKIP LOCKED)
                    RETURNING id, job_id, channel, payload, traceparent, tracestate, created_at, available_at
                    """)
                {
                    Parameters = { new() { Value = now }, new() { Value = batchSize } },
                },
            },
        };
        var claimed = new List<OutboxMessage>(batchSize);
        await using var reader = await batch.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            claimed.Add(new OutboxMessage
            {
                Id = reader.GetInt64(0),
                JobId = reader.GetGuid(1),
                Channel = SnakeCaseEnum<DeliveryChannel>.FromName(reader.GetString(2)),
                Payload = reader.GetFieldValue<JsonDocument>(3),
                TraceParent = reader.IsDBNull(4) ? null : reader.GetString(4),
                TraceState = reader.IsDBNull(5) ? null : reader.GetString(5),
                CreatedAt = reader.GetFieldValue<DateTimeOffset>(6),
                AvailableAt = reader.GetFieldValue<DateTimeOffset>(7),
                DispatchedAt = now,
            });
        }
        // RETURNING does not keep the subquery's order; streams get the rows oldest first.
        claimed.Sort((left, right) => left.Id.CompareTo(right.Id));
        return claimed;
    }

    /// <summary>
    /// XADDs the claimed rows to their channels' streams, pipelined in id order on the one connection. Returns how many
    /// went out, and the malformed rows, which were not appended.
    /// </summary>
    private async Task<(int Dispatched, List<(long Id, string Error)> Malformed)> AppendAsync(
        IReadOnlyList<OutboxMessage> claimed, CancellationToken cancellationToken)
    {
        var appends = new List<Task<RedisResult>>(claimed.Count);
        var malformed = new List<(long Id, string Error)>();
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
                malformed.Add((row.Id, Truncate(exception.Message)));
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
            byChannel[row.Channel] = byChannel.GetValueOrDefault(row.Channel) + 1;
        }
        await Task.WhenAll(appends).WaitAsync(RedisCommandTimeout, timeProvider, cancellationToken);

        foreach (var (channel, count) in byChannel)
        {
            DispatchedMessages.Add(count, new KeyValuePair<string, object?>("notifications.channel", SnakeCaseEnum<DeliveryChannel>.ToName(channel)));
        }
        return (appends.Count, malformed);
    }

    /// <summary>
    /// Takes the dispatched mark off malformed rows, counting the attempt and recording why (in the batch's transaction),
    /// and puts their next attempt off: 1 s, doubling with each attempt, at most an hour. A payload that did not parse
    /// will not parse on the next pass either (only someone mending the row helps); retried at once, it was claimed again
    /// by every pass, an error logged each time.
    /// </summary>
    private static async Task LeaveUndispatchedAsync(
        NpgsqlConnection connection, List<(long Id, string Error)> malformed, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand("""
            UPDATE outbox_messages AS message
            SET dispatched_at = NULL, attempts = message.attempts + 1, last_error = failed.error,
                available_at = $3 + least(interval '1 second' * power(2, least(message.attempts, 12)), interval '1 hour')
            FROM unnest($1::bigint[], $2::text[]) AS failed (id, error)
            WHERE message.id = failed.id
            """, connection)
        {
            Parameters =
            {
                new() { Value = malformed.Select(row => row.Id).ToArray() },
                new() { Value = malformed.Select(row => row.Error).ToArray() },
                new() { Value = now },
            },
        };
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>
    /// Counts the failed attempt on rows the rolled-back batch had claimed, in a short statement of its own. Rows another
    /// relay dispatched meanwhile are left alone.
    /// </summary>
    private async Task TryRecordFailedAttemptAsync(IReadOnlyList<OutboxMessage> claimed, Exception failure, CancellationToken cancellationToken)
    {
        if (claimed.Count == 0)
        {
            return;
        }
        try
        {
            await using var command = dataSource.CreateCommand("""
                UPDATE outbox_messages SET attempts = attempts + 1, last_error = $2
                WHERE id = ANY($1) AND dispatched_at IS NULL
                """);
            command.Parameters.Add(new() { Value = claimed.Select(row => row.Id).ToArray() });
            command.Parameters.Add(new() { Value = Truncate($"{failure.GetType().Name}: {failure.Message}") });
            await command.ExecuteNonQueryAsync(cancellationToken);
        }
        catch (Exception exception) when (exception is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            Log.RecordAttemptFailed(logger, claimed.Count, exception);
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
