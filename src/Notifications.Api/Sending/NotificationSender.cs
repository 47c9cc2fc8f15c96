using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Text;
using System.Text.Json;
using System.Threading.Channels;
using Microsoft.Extensions.Options;
using Notifications.Api.Outbox;
using Notifications.Domain.Messaging;
using Notifications.Domain.Model;
using Notifications.Domain.Persistence;
using Npgsql;
using NpgsqlTypes;

namespace Notifications.Api.Sending;

/// <summary>What became of a send request.</summary>
internal abstract record SendResult
{
    /// <summary>Written and queued; <see cref="Json"/> is the <c>202</c> body (also stored for idempotent replays).</summary>
    public sealed record Accepted(byte[] Json) : SendResult;

    /// <summary>A repeat of a request already answered under the same <c>Idempotency-Key</c>: its answer, again.</summary>
    public sealed record Replayed(int StatusCode, byte[] Json) : SendResult;

    /// <summary>A single send to a user who is not registered; nothing was written.</summary>
    public sealed record UserNotFound(string UserId) : SendResult;

    /// <summary>Another request with the same <c>Idempotency-Key</c> is still running; nothing was written.</summary>
    public sealed record KeyInFlight : SendResult;

    /// <summary>The <c>Idempotency-Key</c> was used before for a different request; nothing was written.</summary>
    public sealed record KeyReusedForAnotherRequest : SendResult;
}

/// <summary>
/// Accepts notifications: in ONE Postgres transaction it writes each notification, a delivery job per channel the
/// user's preferences allow, an outbox row per job that goes now (the relay hands those to the workers after the
/// commit), and the producer's idempotency key with the answer. Nothing is written when any step fails.
/// </summary>
/// <remarks>
/// Plain Npgsql batches rather than EF Core: this is the API's hot path, and the whole request costs two round trips
/// (read the recipients, their matching rules and the key; write everything and commit) whatever the batch size,
/// because rows are passed as arrays and inserted with <c>unnest</c>.
/// A concurrent repeat of an idempotent request is held off with a transaction-scoped advisory lock: if the first one
/// dies, Postgres releases the lock with its transaction, so no key is ever left stuck "in flight".
/// </remarks>
internal sealed partial class NotificationSender(
    NpgsqlDataSource dataSource,
    OutboxWakeup outboxWakeup,
    IOptions<SendingOptions> options,
    TimeProvider timeProvider,
    ILogger<NotificationSender> logger)
{
    private const int AcceptedStatusCode = StatusCodes.Status202Accepted;

    private static readonly Counter<long> AcceptedNotifications = ApiTelemetry.Meter.CreateCounter<long>(
        "notifications.accepted", unit: "{notification}", description: "Notifications written with their delivery jobs.");

    private static readonly Counter<long> CreatedJobs = ApiTelemetry.Meter.CreateCounter<long>(
        "notifications.jobs.created", unit: "{job}", description: "Delivery jobs created by accepted notifications.");

    private static readonly string NotificationKind = SnakeCaseEnum<DeliveryJobKind>.ToName(DeliveryJobKind.Notification);

    /// <summary>Transactions of grouped single sends in flight at once: enough to keep Postgres busy while one commits.</summary>
    private const int GroupWriters = 4;

    /// <summary>The most single sends one transaction writes (its arrays stay small; the batch route takes 1,000).</summary>
    private const int MaximumGroupSize = 256;

    private readonly Channel<PendingSingleSend> _pendingSingleSends = Channel.CreateUnbounded<PendingSingleSend>();

    /// <summary>
    /// One notification for one user. Without an <c>Idempotency-Key</c> it joins the single sends arriving at the same
    /// moment and is written in their transaction (see <see cref="WriteGroupsAsync"/>); with one, it has a transaction
    /// of its own, which holds the key's lock.
    /// </summary>
    public async Task<SendResult> SendOneAsync(NotificationDraft draft, IdempotencyRequest? idempotency, CancellationToken cancellationToken)
    {
        if (idempotency is not null)
        {
            return await SendAsync([draft], single: true, idempotency, cancellationToken);
        }
        using var activity = ApiTelemetry.ActivitySource.StartActivity("accept notification");
        var traceContext = activity ?? Activity.Current;
        var pending = new PendingSingleSend(draft, traceContext?.Id, traceContext?.TraceStateString);
        if (!_pendingSingleSends.Writer.TryWrite(pending))
        {
            throw new InvalidOperationException("The API is shutting down and no longer accepts notifications.");
        }
        // Once queued the send is written even if the caller goes away, as if its connection dropped after the commit.
        var result = await pending.Result.Task.WaitAsync(cancellationToken);
        activity?.SetTag("notifications.outcome", result.GetType().Name);
        return result;
    }

    public Task<SendResult> SendBatchAsync(IReadOnlyList<NotificationDraft> drafts, IdempotencyRequest? idempotency, CancellationToken cancellationToken) =>
        SendAsync(drafts, single: false, idempotency, cancellationToken);

    /// <summary>
    /// Group commit for single sends: <see cref="GroupWriters"/> loops each take whatever single sends are waiting (up to
    /// <see cref="MaximumGroupSize"/>) and write them in one transaction. Idle, a send is written alone at once; under
    /// load the sends that arrive while a transaction commits share the next one, so Postgres does one commit — one WAL
    /// flush — for many requests instead of one each. Runs until <paramref name="stoppingToken"/> fires and the sends
    /// queued by then are written.
    /// </summary>
    public async Task WriteGroupsAsync(CancellationToken stoppingToken)
    {
        // Stopping closes the queue; sends already queued are still written and answered, so their writes are not cancelled.
        await using var stopping = stoppingToken.Register(() => _pendingSingleSends.Writer.TryComplete());
        await Task.WhenAll(Enumerable.Range(0, GroupWriters).Select(_ => WriteGroupLoopAsync()));
    }

    private async Task WriteGroupLoopAsync()
    {
        var group = new List<PendingSingleSend>(MaximumGroupSize);
        while (await _pendingSingleSends.Reader.WaitToReadAsync(CancellationToken.None))
        {
            group.Clear();
            while (group.Count < MaximumGroupSize && _pendingSingleSends.Reader.TryRead(out var pending))
            {
                group.Add(pending);
            }
            if (group.Count > 0)
            {
                await WriteGroupAsync(group);
            }
        }
    }

    /// <summary>
    /// Writes one group and answers each of its requests. When Postgres refuses the shared transaction, each send is tried
    /// again in a transaction of its own, so a request it refuses fails alone, not the group around it. When Postgres is
    /// unreachable every request of the group fails at once (503), rather than each waiting for its own timeout.
    /// </summary>
    private async Task WriteGroupAsync(List<PendingSingleSend> group)
    {
        try
        {
            var results = await SendGroupAsync(group, CancellationToken.None);
            for (var index = 0; index < group.Count; index++)
            {
                group[index].Result.TrySetResult(results[index]);
            }
            return;
        }
        catch (Exception exception) when (group.Count > 1 && exception is PostgresException { IsTransient: false })
        {
            Log.GroupFailed(logger, group.Count, exception);
        }
        catch (Exception exception)
        {
            group.ForEach(pending => pending.Result.TrySetException(exception));
            return;
        }

        foreach (var pending in group)
        {
            try
            {
                pending.Result.TrySetResult((await SendGroupAsync([pending], CancellationToken.None))[0]);
            }
            catch (Exception exception)
            {
                pending.Result.TrySetException(exception);
            }
        }
    }

    /// <summary>Single sends in one transaction: per send, accepted or an unknown user.</summary>
    private async Task<SendResult[]> SendGroupAsync(IReadOnlyList<PendingSingleSend> group, CancellationToken cancellationToken)
    {
        using var activity = ApiTelemetry.ActivitySource.StartActivity(
            "accept notification group", ActivityKind.Internal, parentContext: default, links: GroupLinks(group));
        activity?.SetTag("notifications.count", group.Count);
        var now = timeProvider.GetUtcNow();
        var drafts = group.Select(pending => pending.Draft).ToArray();

        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var read = await ReadAsync(connection, transaction, drafts, idempotency: null, now, cancellationToken);
        var rows = new RowsToWrite(group.Count);
        var results = new SendResult[group.Count];
        var accepted = new List<(int Index, SendNotificationResponse Response)>(group.Count);
        for (var index = 0; index < group.Count; index++)
        {
            var pending = group[index];
            if (Route(pending.Draft, read, rows, pending.TraceParent, pending.TraceState, now) is { } response)
            {
                accepted.Add((index, response));
            }
            else
            {
                results[index] = new SendResult.UserNotFound(pending.Draft.UserId);
            }
        }

        await WriteAndCommitAsync(connection, transaction, rows, idempotency: null, responseJson: [], now, cancellationToken);

        foreach (var (index, response) in accepted)
        {
            results[index] = new SendResult.Accepted(JsonSerializer.SerializeToUtf8Bytes(response, SendJsonContext.Default.SendNotificationResponse));
        }
        return results;
    }

    private static ActivityLink[]? GroupLinks(IReadOnlyList<PendingSingleSend> group)
    {
        var links = new List<ActivityLink>(group.Count);
        foreach (var pending in group)
        {
            if (ActivityContext.TryParse(pending.TraceParent, pending.TraceState, out var context))
            {
                links.Add(new ActivityLink(context));
            }
        }
        return links.Count == 0 ? null : [.. links];
    }

    private async Task<SendResult> SendAsync(
        IReadOnlyList<NotificationDraft> drafts, bool single, IdempotencyRequest? idempotency, CancellationToken cancellationToken)
    {
        using var activity = ApiTelemetry.ActivitySource.StartActivity("accept notifications");
        activity?.SetTag("notifications.count", drafts.Count);
        // The workers' spans continue this trace: the context travels in the outbox rows and the stream entries.
        var traceContext = activity ?? Activity.Current;
        var traceParent = traceContext?.Id;
        var traceState = traceContext?.TraceStateString;
        var now = timeProvider.GetUtcNow();

        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);

        var read = await ReadAsync(connection, transaction, drafts, idempotency, now, cancellationToken);
        if (read.Early is { } early)
        {
            activity?.SetTag("notifications.outcome", early.GetType().Name);
            return early;
        }

        var rows = new RowsToWrite(drafts.Count);
        var results = new List<BatchItemResult>(drafts.Count);
        SendNotificationResponse? singleResponse = null;
        for (var index = 0; index < drafts.Count; index++)
        {
            var draft = drafts[index];
            var response = Route(draft, read, rows, traceParent, traceState, now);
            if (single)
            {
                if (response is null)
                {
                    return new SendResult.UserNotFound(draft.UserId);
                }
                singleResponse = response;
            }
            else
            {
                results.Add(response is null
                    ? new BatchItemResult(index, draft.UserId, "rejected", null, null, null,
                        $"User '{draft.UserId}' is not registered; register recipients with PUT /api/users/{{id}}.")
                    : new BatchItemResult(index, draft.UserId, "accepted", response.NotificationId, response.Jobs, response.Skipped, null));
            }
        }

        var json = singleResponse is not null
            ? JsonSerializer.SerializeToUtf8Bytes(singleResponse, SendJsonContext.Default.SendNotificationResponse)
            : JsonSerializer.SerializeToUtf8Bytes(
                new SendBatchResponse(rows.NotificationCount, drafts.Count - rows.NotificationCount, results),
                SendJsonContext.Default.SendBatchResponse);

        await WriteAndCommitAsync(connection, transaction, rows, idempotency, json, now, cancellationToken);
        activity?.SetTag("notifications.accepted", rows.NotificationCount);
        return new SendResult.Accepted(json);
    }

    /// <summary>Chooses the draft's channels and adds its rows; null when its user is not registered.</summary>
    private SendNotificationResponse? Route(
        NotificationDraft draft, ReadState read, RowsToWrite rows, string? traceParent, string? traceState, DateTimeOffset now)
    {
        if (!read.Recipients.TryGetValue(draft.UserId, out var recipient))
        {
            return null;
        }
        var rules = read.Rules.GetValueOrDefault(draft.UserId) ?? [];
        var plan = ChannelRouter.Plan(draft, recipient, rules, options.Value.CriticalTypes.Contains(draft.Type, StringComparer.Ordinal), now);
        var (notificationId, jobs) = rows.Add(draft, plan, traceParent, traceState);
        return new SendNotificationResponse(notificationId, draft.UserId, SnakeCaseEnum<NotificationPriority>.ToName(plan.Priority), jobs, plan.Skipped);
    }

    /// <summary>Writes the rows (and the key), commits, wakes the relays for rows due now, and counts what was accepted.</summary>
    private async Task WriteAndCommitAsync(
        NpgsqlConnection connection,
        NpgsqlTransaction transaction,
        RowsToWrite rows,
        IdempotencyRequest? idempotency,
        byte[] responseJson,
        DateTimeOffset now,
        CancellationToken cancellationToken)
    {
        await WriteAsync(connection, transaction, rows, idempotency, responseJson, now, options.Value.IdempotencyKeyLifetime, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        if (rows.OutboxCount > 0)
        {
            outboxWakeup.Signal();
        }
        AcceptedNotifications.Add(rows.NotificationCount);
        CreatedJobs.Add(rows.JobCount);
        Log.Accepted(logger, rows.NotificationCount, rows.JobCount, rows.OutboxCount);
    }

    /// <summary>A single send waiting for its group's transaction.</summary>
    private sealed record PendingSingleSend(NotificationDraft Draft, string? TraceParent, string? TraceState)
    {
        public TaskCompletionSource<SendResult> Result { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    /// <summary>What the first round trip found: the recipients and their matching rules, or an early answer.</summary>
    private sealed record ReadState(
        SendResult? Early,
        Dictionary<string, Recipient> Recipients,
        Dictionary<string, List<PreferenceRule>> Rules);

    private static async Task<ReadState> ReadAsync(
        NpgsqlConnection connection,
        NpgsqlTransaction transaction,
        IReadOnlyList<NotificationDraft> drafts,
        IdempotencyRequest? idempotency,
        DateTimeOffset now,
        CancellationToken cancellationToken)
    {
        var userIds = drafts.Select(draft => draft.UserId).Distinct(StringComparer.Ordinal).ToArray();
        var ruleKeys = drafts.SelectMany(draft => new[] { draft.Type, draft.Category }).Distinct(StringComparer.Ordinal).ToArray();

        await using var batch = new NpgsqlBatch(connection, transaction);
        if (idempotency is not null)
        {
            batch.BatchCommands.Add(Command("SELECT pg_try_advisory_xact_lock($1)", new NpgsqlParameter<long> { TypedValue = idempotency.LockId }));
            batch.BatchCommands.Add(Command(
                "SELECT request_hash, response_status_code, response_body::text, expires_at FROM idempotency_keys WHERE scope = $1 AND key = $2",
                Text(idempotency.Scope), Text(idempotency.Key)));
        }
        batch.BatchCommands.Add(Command(
            "SELECT id, email, email_enabled, muted_until FROM users WHERE id = ANY($1)",
            TextArray(userIds)));
        batch.BatchCommands.Add(Command(
            "SELECT user_id, scope, scope_key, channel, enabled, delivery_mode FROM notification_preferences WHERE user_id = ANY($1) AND scope_key = ANY($2)",
            TextArray(userIds), TextArray(ruleKeys)));

        await using var reader = await batch.ExecuteReaderAsync(cancellationToken);
        if (idempotency is not null)
        {
            await reader.ReadAsync(cancellationToken);
            if (!reader.GetBoolean(0))
            {
                return new ReadState(new SendResult.KeyInFlight(), [], []);
            }
            await reader.NextResultAsync(cancellationToken);
            if (await reader.ReadAsync(cancellationToken) && reader.GetFieldValue<DateTimeOffset>(3) > now)
            {
                // An expired key is overwritten by this request's write, as if it had never been used.
                var sameRequest = string.Equals(reader.GetString(0), idempotency.RequestHash, StringComparison.Ordinal);
                return new ReadState(
                    sameRequest
                        ? new SendResult.Replayed(reader.GetInt32(1), Encoding.UTF8.GetBytes(reader.GetString(2)))
                        : new SendResult.KeyReusedForAnotherRequest(),
                    [], []);
            }
            await reader.NextResultAsync(cancellationToken);
        }

        var recipients = new Dictionary<string, Recipient>(userIds.Length, StringComparer.Ordinal);
        while (await reader.ReadAsync(cancellationToken))
        {
            var id = reader.GetString(0);
            recipients[id] = new Recipient(
                id,
                reader.IsDBNull(1) ? null : reader.GetString(1),
                reader.GetBoolean(2),
                reader.IsDBNull(3) ? null : reader.GetFieldValue<DateTimeOffset>(3));
        }

        await reader.NextResultAsync(cancellationToken);
        var rules = new Dictionary<string, List<PreferenceRule>>(StringComparer.Ordinal);
        while (await reader.ReadAsync(cancellationToken))
        {
            var userId = reader.GetString(0);
            if (!rules.TryGetValue(userId, out var userRules))
            {
                rules[userId] = userRules = [];
            }
            userRules.Add(new PreferenceRule(
                SnakeCaseEnum<PreferenceScope>.FromName(reader.GetString(1)),
                reader.GetString(2),
                SnakeCaseEnum<DeliveryChannel>.FromName(reader.GetString(3)),
                reader.GetBoolean(4),
                SnakeCaseEnum<DeliveryMode>.FromName(reader.GetString(5))));
        }
        return new ReadState(null, recipients, rules);
    }

    private static async Task WriteAsync(
        NpgsqlConnection connection,
        NpgsqlTransaction transaction,
        RowsToWrite rows,
        IdempotencyRequest? idempotency,
        byte[] responseJson,
        DateTimeOffset now,
        TimeSpan keyLifetime,
        CancellationToken cancellationToken)
    {
        await using var batch = new NpgsqlBatch(connection, transaction);
        if (rows.NotificationCount > 0)
        {
            batch.BatchCommands.Add(Command(
                """
                INSERT INTO notifications (id, user_id, type, category, priority, title, body, data, created_at, archived_at)
                SELECT id, user_id, type, category, priority, title, body, data::jsonb, $9, CASE WHEN in_app THEN NULL ELSE $9 END
                FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $10::boolean[])
                    AS n (id, user_id, type, category, priority, title, body, data, in_app)
                """,
                UuidArray(rows.NotificationIds), TextArray(rows.NotificationUserIds), TextArray(rows.Types), TextArray(rows.Categories),
                TextArray(rows.NotificationPriorities), TextArray(rows.Titles), TextArray(rows.Bodies), TextArray(rows.Data),
                Timestamp(now), new NpgsqlParameter<List<bool>> { TypedValue = rows.DeliveredInApp, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Boolean }));
        }
        if (rows.JobCount > 0)
        {
            batch.BatchCommands.Add(Command(
                """
                INSERT INTO delivery_jobs (id, kind, notification_id, user_id, channel, status, priority, attempts, recovery_count,
                                           scheduled_for, created_at, updated_at)
                SELECT id, $7, notification_id, user_id, channel, status, priority, 0, 0, $8, $8, $8
                FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::text[], $6::text[])
                    AS j (id, notification_id, user_id, channel, status, priority)
                """,
                UuidArray(rows.JobIds), UuidArray(rows.JobNotificationIds), TextArray(rows.JobUserIds), TextArray(rows.JobChannels),
                TextArray(rows.JobStatuses), TextArray(rows.JobPriorities), Text(NotificationKind), Timestamp(now)));
        }
        if (rows.OutboxCount > 0)
        {
            batch.BatchCommands.Add(Command(
                """
                INSERT INTO outbox_messages (job_id, channel, payload, traceparent, tracestate, created_at, available_at, attempts)
                SELECT job_id, channel, payload::jsonb, traceparent, tracestate, $6, $6, 0
                FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[]) AS o (job_id, channel, payload, traceparent, tracestate)
                """,
                UuidArray(rows.OutboxJobIds), TextArray(rows.OutboxChannels), TextArray(rows.OutboxPayloads),
                NullableTextArray(rows.OutboxTraceParents), NullableTextArray(rows.OutboxTraceStates), Timestamp(now)));
        }
        if (idempotency is not null)
        {
            batch.BatchCommands.Add(Command(
                """
                INSERT INTO idempotency_keys (scope, key, request_hash, response_status_code, response_body, created_at, completed_at, expires_at)
                VALUES ($1, $2, $3, $4, $5::jsonb, $6, $6, $7)
                ON CONFLICT (scope, key) DO UPDATE SET
                    request_hash = excluded.request_hash, response_status_code = excluded.response_status_code,
                    response_body = excluded.response_body, created_at = excluded.created_at,
                    completed_at = excluded.completed_at, expires_at = excluded.expires_at
                """,
                Text(idempotency.Scope), Text(idempotency.Key), Text(idempotency.RequestHash),
                new NpgsqlParameter<int> { TypedValue = AcceptedStatusCode }, Text(Encoding.UTF8.GetString(responseJson)),
                Timestamp(now), Timestamp(now + keyLifetime)));
        }
        if (batch.BatchCommands.Count > 0)
        {
            await batch.ExecuteNonQueryAsync(cancellationToken);
        }
    }

    private static NpgsqlBatchCommand Command(string sql, params NpgsqlParameter[] parameters)
    {
        var command = new NpgsqlBatchCommand(sql);
        command.Parameters.AddRange(parameters);
        return command;
    }

    private static NpgsqlParameter<string> Text(string value) => new() { TypedValue = value };

    private static NpgsqlParameter<string[]> TextArray(string[] values) => new() { TypedValue = values, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text };

    private static NpgsqlParameter<List<string>> TextArray(List<string> values) => new() { TypedValue = values, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text };

    private static NpgsqlParameter<List<string?>> NullableTextArray(List<string?> values) => new() { TypedValue = values, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text };

    private static NpgsqlParameter<List<Guid>> UuidArray(List<Guid> values) => new() { TypedValue = values, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Uuid };

    private static NpgsqlParameter<DateTimeOffset> Timestamp(DateTimeOffset value) => new() { TypedValue = value };

    /// <summary>The rows of one request, column by column, ready to be passed as arrays.</summary>
    private sealed class RowsToWrite(int capacity)
    {
        public List<Guid> NotificationIds { get; } = new(capacity);
        public List<string> NotificationUserIds { get; } = new(capacity);
        public List<string> Types { get; } = new(capacity);
        public List<string> Categories { get; } = new(capacity);
        public List<string> NotificationPriorities { get; } = new(capacity);
        public List<string> Titles { get; } = new(capacity);
        public List<string> Bodies { get; } = new(capacity);
        public List<string> Data { get; } = new(capacity);

        /// <summary>Whether it has an in-app job; the inbox shows only those.</summary>
        public List<bool> DeliveredInApp { get; } = new(capacity);

        public List<Guid> JobIds { get; } = new(capacity * 2);
        public List<Guid> JobNotificationIds { get; } = new(capacity * 2);
        public List<string> JobUserIds { get; } = new(capacity * 2);
        public List<string> JobChannels { get; } = new(capacity * 2);
        public List<string> JobStatuses { get; } = new(capacity * 2);
        public List<string> JobPriorities { get; } = new(capacity * 2);

        public List<Guid> OutboxJobIds { get; } = new(capacity * 2);
        public List<string> OutboxChannels { get; } = new(capacity * 2);
        public List<string> OutboxPayloads { get; } = new(capacity * 2);
        public List<string?> OutboxTraceParents { get; } = new(capacity * 2);
        public List<string?> OutboxTraceStates { get; } = new(capacity * 2);

        public int NotificationCount => NotificationIds.Count;
        public int JobCount => JobIds.Count;
        public int OutboxCount => OutboxJobIds.Count;

        public (Guid NotificationId, IReadOnlyList<AcceptedJob> Jobs) Add(
            NotificationDraft draft, DeliveryPlan plan, string? traceParent, string? traceState)
        {
            var notificationId = Guid.CreateVersion7();
            var priority = SnakeCaseEnum<NotificationPriority>.ToName(plan.Priority);
            NotificationIds.Add(notificationId);
            NotificationUserIds.Add(draft.UserId);
            Types.Add(draft.Type);
            Categories.Add(draft.Category);
            NotificationPriorities.Add(priority);
            Titles.Add(draft.Title);
            Bodies.Add(draft.Body);
            Data.Add(draft.DataJson);
            DeliveredInApp.Add(plan.Jobs.Any(job => job.Channel == DeliveryChannel.InApp));

            var jobs = new List<AcceptedJob>(plan.Jobs.Count);
            foreach (var planned in plan.Jobs)
            {
                var jobId = Guid.CreateVersion7();
                var channel = SnakeCaseEnum<DeliveryChannel>.ToName(planned.Channel);
                var status = SnakeCaseEnum<DeliveryJobStatus>.ToName(planned.Status);
                JobIds.Add(jobId);
                JobNotificationIds.Add(notificationId);
                JobUserIds.Add(draft.UserId);
                JobChannels.Add(channel);
                JobStatuses.Add(status);
                JobPriorities.Add(priority);
                jobs.Add(new AcceptedJob(jobId, channel, status));
                if (planned.Status == DeliveryJobStatus.Queued)
                {
                    OutboxJobIds.Add(jobId);
                    OutboxChannels.Add(channel);
                    OutboxTraceParents.Add(traceParent);
                    OutboxTraceStates.Add(traceState);
                    OutboxPayloads.Add(OutboxMessage.PayloadFor(
                        new DeliveryMessage(jobId, notificationId, draft.UserId, planned.Channel, plan.Priority, traceParent, traceState)));
                }
            }
            return (notificationId, jobs);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 4201, Level = LogLevel.Debug,
            Message = "Accepted {Notifications} notifications: {Jobs} delivery jobs, {Outbox} to dispatch now")]
        public static partial void Accepted(ILogger logger, int notifications, int jobs, int outbox);

        [LoggerMessage(EventId = 4202, Level = LogLevel.Warning,
            Message = "A transaction of {Count} single sends failed; writing each in a transaction of its own")]
        public static partial void GroupFailed(ILogger logger, int count, Exception exception);
    }
}
