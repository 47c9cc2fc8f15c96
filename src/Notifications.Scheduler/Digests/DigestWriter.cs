using Notifications.Domain.Model;
using Notifications.Domain.Persistence;
using Notifications.Scheduler.Jobs;
using Npgsql;
using NpgsqlTypes;

namespace Notifications.Scheduler.Digests;

/// <summary>A digest to try for one user: from a schedule (which is then advanced), or the default daily digest.</summary>
/// <param name="PeriodKey">Unique per user and period (<c>schedule:{id}:{dueAtUtc:O}</c> or <c>default:{yyyy-MM-dd}</c>).</param>
/// <param name="MaxItems">How many items the email lists, newest first, before "and N more".</param>
/// <param name="ScheduleId">The schedule whose period this is; null for the default digest.</param>
/// <param name="NextDueAt">Where the schedule's <c>next_due_at</c> moves, digest or not; null for the default digest.</param>
internal sealed record DigestCandidate(string UserId, string PeriodKey, int MaxItems, Guid? ScheduleId, DateTimeOffset? NextDueAt);

/// <summary>What one write did: digests created, and the pending jobs folded into them.</summary>
internal readonly record struct DigestWriteResult(int Digests, int FoldedJobs);

/// <summary>
/// Writes a batch of digests with one statement, inside the caller's transaction (which holds the locks of what it
/// claimed). Per candidate, atomically: the user's <c>digest_pending</c> email jobs (those of the schedule's included
/// categories, all when it lists none; for the default digest those created since <c>pendingSince</c>) are marked
/// <c>digested</c> into a new digest job; the digest job (<c>queued</c>, its period key and item limit) and its outbox
/// row are written only when at least one job was folded; a schedule's <c>next_due_at</c> advances either way, and its
/// <c>last_sent_at</c> when a digest went out. Users with email disabled or muted get no digest; their jobs stay pending.
/// When digests were written, the relays are signalled as the transaction commits.
/// </summary>
/// <remarks>
/// The unique index on (user_id, digest_period_key) turns a second digest for a period into an error that rolls the
/// whole statement back; claiming and the transaction keep that from happening in the first place.
/// </remarks>
internal static class DigestWriter
{
    private const string Sql = """
        WITH candidates AS (
            SELECT c.user_id, c.digest_id, c.period_key, c.max_items, c.payload, c.schedule_id, c.next_due_at,
                   coalesce(s.included_categories, '{}'::text[]) AS categories
            FROM unnest(@user_ids, @digest_ids, @period_keys, @max_items, @payloads, @schedule_ids, @next_due_ats)
                 AS c(user_id, digest_id, period_key, max_items, payload, schedule_id, next_due_at)
            LEFT JOIN digest_schedules s ON s.id = c.schedule_id
        ),
        eligible AS (
            SELECT c.*
            FROM candidates c
            JOIN users u ON u.id = c.user_id
            WHERE u.email_enabled AND (u.muted_until IS NULL OR u.muted_until <= @now)
        ),
        folded AS (
            UPDATE delivery_jobs j
            SET status = 'digested', digest_job_id = e.digest_id, updated_at = @now
            FROM eligible e
            WHERE j.user_id = e.user_id AND j.status = 'digest_pending' AND j.channel = 'email'
              AND (@pending_since IS NULL OR j.created_at >= @pending_since)
              AND (cardinality(e.categories) = 0
                   OR EXISTS (SELECT 1 FROM notifications n WHERE n.id = j.notification_id AND n.category = ANY (e.categories)))
            RETURNING j.digest_job_id
        ),
        digests AS (
            INSERT INTO delivery_jobs (id, kind, notification_id, user_id, channel, status, priority, attempts, recovery_count,
                                       scheduled_for, digest_period_key, digest_max_items, created_at, updated_at)
            SELECT e.digest_id, 'digest', NULL, e.user_id, 'email', 'queued', 'normal', 0, 0,
                   @now, e.period_key, e.max_items, @now, @now
            FROM eligible e
            WHERE e.digest_id IN (SELECT digest_job_id FROM folded)
            RETURNING id
        ),
        outbox AS (
            INSERT INTO outbox_messages (job_id, channel, payload, traceparent, tracestate, created_at, available_at, attempts)
            SELECT e.digest_id, 'email', e.payload::jsonb, @traceparent, @tracestate, @now, @now, 0
            FROM eligible e
            WHERE e.digest_id IN (SELECT id FROM digests)
        ),
        advanced AS (
            UPDATE digest_schedules s
            SET next_due_at = c.next_due_at,
                last_sent_at = CASE WHEN c.digest_id IN (SELECT id FROM digests) THEN @now ELSE s.last_sent_at END,
                updated_at = @now
            FROM candidates c
            WHERE s.id = c.schedule_id
        )
        SELECT (SELECT count(*) FROM digests)::int, (SELECT count(*) FROM folded)::int
        """;

    public static async Task<DigestWriteResult> WriteAsync(
        NpgsqlConnection connection,
        NpgsqlTransaction transaction,
        IReadOnlyList<DigestCandidate> candidates,
        DateTimeOffset? pendingSince,
        DateTimeOffset now,
        CancellationToken cancellationToken)
    {
        if (candidates.Count == 0)
        {
            return default;
        }

        var digestJobs = candidates.Select(candidate => new DeliveryJob
        {
            Kind = DeliveryJobKind.Digest,
            UserId = candidate.UserId,
            Channel = DeliveryChannel.Email,
            Status = DeliveryJobStatus.Queued,
            Priority = NotificationPriority.Normal,
            ScheduledFor = now,
            DigestPeriodKey = candidate.PeriodKey,
            DigestMaxItems = candidate.MaxItems,
            CreatedAt = now,
            UpdatedAt = now,
        }).ToList();

        await using var command = new NpgsqlCommand(Sql, connection, transaction);
        command.Parameters.AddWithValue("user_ids", candidates.Select(candidate => candidate.UserId).ToArray());
        command.Parameters.AddWithValue("digest_ids", digestJobs.Select(job => job.Id).ToArray());
        command.Parameters.AddWithValue("period_keys", candidates.Select(candidate => candidate.PeriodKey).ToArray());
        command.Parameters.AddWithValue("max_items", candidates.Select(candidate => candidate.MaxItems).ToArray());
        command.Parameters.AddWithValue("payloads", digestJobs.Select(job => OutboxRows.Payload(job, now)).ToArray());
        command.Parameters.AddWithValue("schedule_ids", candidates.Select(candidate => candidate.ScheduleId).ToArray());
        command.Parameters.AddWithValue("next_due_ats", candidates.Select(candidate => candidate.NextDueAt).ToArray());
        command.Parameters.AddWithValue("now", now);
        command.Parameters.Add(new NpgsqlParameter("pending_since", NpgsqlDbType.TimestampTz) { Value = (object?)pendingSince ?? DBNull.Value });
        command.Parameters.Add(new NpgsqlParameter("traceparent", NpgsqlDbType.Text) { Value = (object?)OutboxRows.TraceParent ?? DBNull.Value });
        command.Parameters.Add(new NpgsqlParameter("tracestate", NpgsqlDbType.Text) { Value = (object?)OutboxRows.TraceState ?? DBNull.Value });

        DigestWriteResult written;
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
        {
            await reader.ReadAsync(cancellationToken);
            written = new DigestWriteResult(reader.GetInt32(0), reader.GetInt32(1));
        }
        if (written.Digests > 0)
        {
            await OutboxSignal.RaiseOnCommitAsync(connection, transaction, cancellationToken);
        }
        return written;
    }
}
