using System.Text.Json;
using Notifications.Domain.Model;
using Notifications.Domain.Persistence;
using Npgsql;

namespace Notifications.EmailWorker.Consuming;

/// <summary>A job this worker claimed, with what its deliverer needs, loaded by the same statement.</summary>
/// <param name="ClaimedAt">The claim's <c>updated_at</c>: the outcome is written only while the job still carries it.</param>
internal sealed record ClaimedJob(DeliveryJob Job, DateTimeOffset ClaimedAt, Notification? Notification, User User);

/// <summary>A job in a claimed batch that could not be claimed, and why (its status; null when it no longer exists).</summary>
internal sealed record UnclaimedJob(Guid JobId, DeliveryJobStatus? Status, DateTimeOffset? UpdatedAt);

/// <summary>
/// The consumer's reads and writes of delivery jobs, in raw SQL so a whole batch takes one statement: one claim for the
/// entries read together, one transaction for the outcomes that completed together. The batch statements are prepared
/// (Npgsql keeps them per pooled connection): parsing and planning them each time cost more than running them once
/// batches are small.
/// </summary>
internal sealed class JobStore(NpgsqlDataSource dataSource)
{
    // The conditional UPDATE of the contract, for many ids at once; the joins load what deliverers need. The second
    // statement, in the same implicit transaction and round trip, tells the status of the ids that were not claimed.
    //
    // The status condition is a CASE so that no index on status can serve it and the rows are found by primary key.
    // Written as `status IN (...) OR ...`, the prepared statement's generic plan looked the waiting jobs up in
    // ix_delivery_jobs_status_updated_at, where every job leaves a dead 'queued' entry until vacuum removes it (a
    // bitmap scan never marks them dead): under load a claim of 8 jobs walked 10,000 entries and took 29 ms.
    internal const string ClaimSql = """
        WITH claimed AS (
            UPDATE delivery_jobs SET status = 'processing', updated_at = $2
            WHERE id = ANY($1)
              AND CASE status WHEN 'queued' THEN true WHEN 'pending' THEN true WHEN 'processing' THEN updated_at < $3 ELSE false END
            RETURNING id, kind, notification_id, user_id, channel, status, priority, attempts, recovery_count, scheduled_for,
                      processed_at, provider_message_id, last_error, digest_job_id, digest_period_key, digest_max_items,
                      created_at, updated_at
        )
        SELECT j.id, j.kind, j.notification_id, j.user_id, j.channel, j.status, j.priority, j.attempts, j.recovery_count,
               j.scheduled_for, j.processed_at, j.provider_message_id, j.last_error, j.digest_job_id, j.digest_period_key,
               j.digest_max_items, j.created_at, j.updated_at,
               n.type, n.category, n.priority, n.title, n.body, n.data::text, n.read_at, n.seen_at, n.archived_at, n.created_at,
               u.email, u.display_name, u.time_zone, u.email_enabled, u.muted_until, u.created_at, u.updated_at
        FROM claimed j
        JOIN users u ON u.id = j.user_id
        LEFT JOIN notifications n ON n.id = j.notification_id
        """;

    private const string StatusSql = "SELECT id, status, updated_at FROM delivery_jobs WHERE id = ANY($1)";

    // For the claim's transaction only (the batch runs in one implicit transaction; set_config's is_local lasts until it
    // ends): its commit does not wait for the WAL flush. A claim lost because Postgres crashed right after committing it
    // is harmless: the entries stay pending (they are acknowledged only after the outcome is written), the job is
    // claimable again and is attempted once they are reclaimed, and the provider's idempotency key (the job id) keeps a
    // repeated send from sending twice. The same crash during the attempt fails the outcome write anyway, with the same
    // result; and the outcome's own (synchronous) commit flushes the WAL up to it, claim included. Outcomes keep
    // synchronous commit: one lost after its entry was acknowledged would lose the attempt's delivery log and leave the
    // job to the stuck-job recovery.
    private const string AsynchronousCommitSql = "SELECT set_config('synchronous_commit', 'off', true)";

    /// <summary>
    /// Claims the jobs that are waiting (queued, pending) or whose lease has run out; the others are returned with
    /// their current status.
    /// </summary>
    public async Task<(List<ClaimedJob> Claimed, List<UnclaimedJob> Unclaimed)> ClaimAsync(
        IReadOnlyCollection<Guid> jobIds, DateTimeOffset now, TimeSpan lease, CancellationToken cancellationToken)
    {
        var ids = jobIds.ToArray();
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var batch = new NpgsqlBatch(connection)
        {
            BatchCommands =
            {
                new NpgsqlBatchCommand(AsynchronousCommitSql),
                new NpgsqlBatchCommand(ClaimSql)
                {
                    Parameters = { new() { Value = ids }, new() { Value = now }, new() { Value = now - lease } },
                },
                new NpgsqlBatchCommand(StatusSql) { Parameters = { new() { Value = ids } } },
            },
        };
        await batch.PrepareAsync(cancellationToken);
        await using var reader = await batch.ExecuteReaderAsync(cancellationToken);
        await reader.NextResultAsync(cancellationToken);

        var claimed = new List<ClaimedJob>(ids.Length);
        while (await reader.ReadAsync(cancellationToken))
        {
            claimed.Add(ReadClaimed(reader));
        }
        await reader.NextResultAsync(cancellationToken);
        var claimedIds = claimed.Select(job => job.Job.Id).ToHashSet();
        var found = new Dictionary<Guid, UnclaimedJob>();
        while (await reader.ReadAsync(cancellationToken))
        {
            var id = reader.GetGuid(0);
            if (!claimedIds.Contains(id))
            {
                found[id] = new UnclaimedJob(id, SnakeCaseEnum<DeliveryJobStatus>.FromName(reader.GetString(1)), reader.GetFieldValue<DateTimeOffset>(2));
            }
        }
        var unclaimed = ids.Where(id => !claimedIds.Contains(id))
            .Select(id => found.GetValueOrDefault(id) ?? new UnclaimedJob(id, null, null))
            .ToList();
        return (claimed, unclaimed);
    }

    /// <summary>
    /// Extends this worker's claim on a job to <paramref name="now"/>; returns the new claim instant, or null when the
    /// job no longer carries the claim (its lease ran out and another worker took it).
    /// </summary>
    public async Task<DateTimeOffset?> RenewLeaseAsync(Guid jobId, DateTimeOffset claimedAt, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var command = new NpgsqlCommand(
            "UPDATE delivery_jobs SET updated_at = $3 WHERE id = $1 AND status = 'processing' AND updated_at = $2 RETURNING updated_at", connection);
        command.Parameters.Add(new NpgsqlParameter { Value = jobId });
        command.Parameters.Add(new NpgsqlParameter { Value = claimedAt });
        command.Parameters.Add(new NpgsqlParameter { Value = now });
        return await command.ExecuteScalarAsync(cancellationToken) is DateTime renewed
            ? new DateTimeOffset(renewed, TimeSpan.Zero)
            : null;
    }

    // Every outcome's job update, delivery log and retry outbox row in one statement. A row is written only while the
    // job still carries this worker's claim, so a worker whose lease ran out and was taken over cannot overwrite the
    // new owner's result; only the jobs actually updated get their log and outbox row. Retry rows are due later, so they
    // raise no OutboxSignal: the relays' poll finds them once due. The claim check is a CASE for the reason given at
    // ClaimSql: by primary key, not through the dead entries of the status index.
    internal const string OutcomeSql = """
        WITH outcome AS (
            SELECT * FROM unnest($1::uuid[], $2::timestamptz[], $3::text[], $4::int[], $5::timestamptz[], $6::timestamptz[], $7::text[], $8::text[])
                AS o(job_id, claimed_at, status, attempt_increment, scheduled_for, processed_at, provider_message_id, last_error)
        ), updated AS (
            UPDATE delivery_jobs j
            SET status = o.status,
                attempts = j.attempts + o.attempt_increment,
                scheduled_for = COALESCE(o.scheduled_for, j.scheduled_for),
                processed_at = COALESCE(o.processed_at, j.processed_at),
                provider_message_id = COALESCE(o.provider_message_id, j.provider_message_id),
                last_error = COALESCE(o.last_error, j.last_error),
                updated_at = $9
            FROM outcome o
            WHERE j.id = o.job_id AND CASE j.status WHEN 'processing' THEN j.updated_at = o.claimed_at ELSE false END
            RETURNING j.id
        ), logs AS (
            INSERT INTO delivery_logs (id, job_id, attempt, channel, provider, outcome, http_status_code, response_excerpt, duration_ms, error, created_at)
            SELECT l.id, l.job_id, l.attempt, l.channel, l.provider, l.outcome, l.http_status_code, l.response_excerpt, l.duration_ms, l.error, $9
            FROM unnest($10::uuid[], $11::uuid[], $12::int[], $13::text[], $14::text[], $15::text[], $16::int[], $17::text[], $18::bigint[], $19::text[])
                AS l(id, job_id, attempt, channel, provider, outcome, http_status_code, response_excerpt, duration_ms, error)
            WHERE l.job_id IN (SELECT id FROM updated)
        ), retries AS (
            INSERT INTO outbox_messages (job_id, channel, payload, traceparent, tracestate, created_at, available_at, attempts)
            SELECT r.job_id, r.channel, r.payload::jsonb, r.traceparent, r.tracestate, $9, r.available_at, 0
            FROM unnest($20::uuid[], $21::text[], $22::text[], $23::text[], $24::text[], $25::timestamptz[])
                AS r(job_id, channel, payload, traceparent, tracestate, available_at)
            WHERE r.job_id IN (SELECT id FROM updated)
        )
        SELECT id FROM updated
        """;

    // After the outcome statement, so the history includes the attempt just logged. A job dead-lettered again after a
    // requeue updates its row: new error, full history, no longer requeued.
    private const string DeadLetterSql = """
        INSERT INTO dead_letters (id, job_id, channel, error_type, http_status_code, provider_response, error_message,
                                  attempt_history, created_at, updated_at, requeued_at, requeue_count)
        SELECT d.id, d.job_id, d.channel, d.error_type, d.http_status_code, d.provider_response, d.error_message,
               COALESCE((
                   SELECT jsonb_agg(jsonb_build_object(
                              'attempt', l.attempt, 'at', l.created_at, 'provider', l.provider, 'outcome', l.outcome,
                              'httpStatusCode', l.http_status_code, 'durationMs', l.duration_ms, 'error', l.error)
                          ORDER BY l.created_at, l.attempt)
                   FROM delivery_logs l WHERE l.job_id = d.job_id), '[]'::jsonb),
               $8, $8, NULL, 0
        FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::int[], $6::text[], $7::text[])
            AS d(id, job_id, channel, error_type, http_status_code, provider_response, error_message)
        ON CONFLICT (job_id) DO UPDATE SET
            error_type = EXCLUDED.error_type,
            http_status_code = EXCLUDED.http_status_code,
            provider_response = EXCLUDED.provider_response,
            error_message = EXCLUDED.error_message,
            attempt_history = EXCLUDED.attempt_history,
            updated_at = EXCLUDED.updated_at,
            requeued_at = NULL
        """;

    /// <summary>
    /// Writes the outcomes in one transaction; returns the ids of the jobs written. A job missing from the result had
    /// lost this worker's claim (its lease ran out and another worker took it over): nothing was written for it.
    /// </summary>
    public async Task<HashSet<Guid>> WriteOutcomesAsync(IReadOnlyList<JobOutcome> outcomes, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);

        var logs = outcomes.Where(outcome => outcome.Log is not null).Select(outcome => outcome.Log!).ToList();
        var retries = outcomes.Where(outcome => outcome.Retry is not null).Select(outcome => outcome.Retry!).ToList();
        var written = new HashSet<Guid>();
        await using (var command = new NpgsqlCommand(OutcomeSql, connection, transaction))
        {
            Add(command, outcomes.Select(outcome => outcome.Job.Id));
            Add(command, outcomes.Select(outcome => outcome.ClaimedAt));
            Add(command, outcomes.Select(outcome => SnakeCaseEnum<DeliveryJobStatus>.ToName(outcome.Status)));
            Add(command, outcomes.Select(outcome => outcome.ChargesAttempt ? 1 : 0));
            Add(command, outcomes.Select(outcome => outcome.ScheduledFor));
            Add(command, outcomes.Select(outcome => outcome.ProcessedAt));
            Add(command, outcomes.Select(outcome => outcome.ProviderMessageId));
            Add(command, outcomes.Select(outcome => outcome.LastError));
            command.Parameters.Add(new NpgsqlParameter { Value = now });
            Add(command, logs.Select(log => log.Id));
            Add(command, logs.Select(log => log.JobId));
            Add(command, logs.Select(log => log.Attempt));
            Add(command, logs.Select(log => SnakeCaseEnum<DeliveryChannel>.ToName(log.Channel)));
            Add(command, logs.Select(log => log.Provider));
            Add(command, logs.Select(log => SnakeCaseEnum<DeliveryOutcome>.ToName(log.Outcome)));
            Add(command, logs.Select(log => log.HttpStatusCode));
            Add(command, logs.Select(log => log.ResponseExcerpt));
            Add(command, logs.Select(log => log.DurationMs));
            Add(command, logs.Select(log => log.Error));
            Add(command, retries.Select(retry => retry.JobId));
            Add(command, retries.Select(retry => SnakeCaseEnum<DeliveryChannel>.ToName(retry.Channel)));
            Add(command, retries.Select(retry => retry.Payload.RootElement.GetRawText()));
            Add(command, retries.Select(retry => retry.TraceParent));
            Add(command, retries.Select(retry => retry.TraceState));
            Add(command, retries.Select(retry => retry.AvailableAt));
            await command.PrepareAsync(cancellationToken);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                written.Add(reader.GetGuid(0));
            }
        }

        var deadLetters = outcomes.Where(outcome => outcome.DeadLetter is not null && written.Contains(outcome.Job.Id)).ToList();
        if (deadLetters.Count > 0)
        {
            await using var command = new NpgsqlCommand(DeadLetterSql, connection, transaction);
            Add(command, deadLetters.Select(_ => Guid.CreateVersion7()));
            Add(command, deadLetters.Select(outcome => outcome.Job.Id));
            Add(command, deadLetters.Select(outcome => SnakeCaseEnum<DeliveryChannel>.ToName(outcome.Job.Channel)));
            Add(command, deadLetters.Select(outcome => SnakeCaseEnum<DeliveryErrorType>.ToName(outcome.DeadLetter!.ErrorType)));
            Add(command, deadLetters.Select(outcome => outcome.DeadLetter!.HttpStatusCode));
            Add(command, deadLetters.Select(outcome => outcome.DeadLetter!.ProviderResponse));
            Add(command, deadLetters.Select(outcome => outcome.DeadLetter!.ErrorMessage));
            command.Parameters.Add(new NpgsqlParameter { Value = now });
            await command.PrepareAsync(cancellationToken);
            await command.ExecuteNonQueryAsync(cancellationToken);
        }

        await transaction.CommitAsync(cancellationToken);
        return written;
    }

    private static void Add<T>(NpgsqlCommand command, IEnumerable<T> values) =>
        command.Parameters.Add(new NpgsqlParameter { Value = values.ToArray() });

    private static ClaimedJob ReadClaimed(NpgsqlDataReader reader)
    {
        var job = new DeliveryJob
        {
            Id = reader.GetGuid(0),
            Kind = SnakeCaseEnum<DeliveryJobKind>.FromName(reader.GetString(1)),
            NotificationId = reader.IsDBNull(2) ? null : reader.GetGuid(2),
            UserId = reader.GetString(3),
            Channel = SnakeCaseEnum<DeliveryChannel>.FromName(reader.GetString(4)),
            Status = SnakeCaseEnum<DeliveryJobStatus>.FromName(reader.GetString(5)),
            Priority = SnakeCaseEnum<NotificationPriority>.FromName(reader.GetString(6)),
            Attempts = reader.GetInt32(7),
            RecoveryCount = reader.GetInt32(8),
            ScheduledFor = reader.GetFieldValue<DateTimeOffset>(9),
            ProcessedAt = NullableTimestamp(reader, 10),
            ProviderMessageId = NullableString(reader, 11),
            LastError = NullableString(reader, 12),
            DigestJobId = reader.IsDBNull(13) ? null : reader.GetGuid(13),
            DigestPeriodKey = NullableString(reader, 14),
            DigestMaxItems = reader.IsDBNull(15) ? null : reader.GetInt32(15),
            CreatedAt = reader.GetFieldValue<DateTimeOffset>(16),
            UpdatedAt = reader.GetFieldValue<DateTimeOffset>(17),
        };
        var notification = job.NotificationId is { } notificationId && !reader.IsDBNull(18)
            ? new Notification
            {
                Id = notificationId,
                UserId = job.UserId,
                Type = reader.GetString(18),
                Category = reader.GetString(19),
                Priority = SnakeCaseEnum<NotificationPriority>.FromName(reader.GetString(20)),
                Title = reader.GetString(21),
                Body = reader.GetString(22),
                Data = JsonDocument.Parse(reader.GetString(23)),
                ReadAt = NullableTimestamp(reader, 24),
                SeenAt = NullableTimestamp(reader, 25),
                ArchivedAt = NullableTimestamp(reader, 26),
                CreatedAt = reader.GetFieldValue<DateTimeOffset>(27),
            }
            : null;
        var user = new User
        {
            Id = job.UserId,
            Email = NullableString(reader, 28),
            DisplayName = NullableString(reader, 29),
            TimeZone = reader.GetString(30),
            EmailEnabled = reader.GetBoolean(31),
            MutedUntil = NullableTimestamp(reader, 32),
            CreatedAt = reader.GetFieldValue<DateTimeOffset>(33),
            UpdatedAt = reader.GetFieldValue<DateTimeOffset>(34),
        };
        return new ClaimedJob(job, job.UpdatedAt, notification, user);
    }

    private static string? NullableString(NpgsqlDataReader reader, int ordinal) => reader.IsDBNull(ordinal) ? null : reader.GetString(ordinal);

    private static DateTimeOffset? NullableTimestamp(NpgsqlDataReader reader, int ordinal) =>
        reader.IsDBNull(ordinal) ? null : reader.GetFieldValue<DateTimeOffset>(ordinal);
}
