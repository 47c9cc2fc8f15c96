using Notifications.Domain.Model;
using Notifications.Domain.Persistence;
using Npgsql;
using NpgsqlTypes;

namespace Notifications.Scheduler.Jobs;

/// <summary>Puts claimed jobs back on the way to their workers: <c>queued</c>, each with a new outbox row due now.</summary>
internal static class JobRequeue
{
    /// <summary>
    /// Within the caller's transaction (which holds the jobs' row locks): sets <paramref name="jobs"/> queued — counting a
    /// stuck-job recovery when <paramref name="countRecovery"/> — and inserts their outbox rows in list order, which is
    /// the order the relay hands them out; the relays are signalled when the transaction commits.
    /// </summary>
    public static async Task RequeueAsync(
        NpgsqlConnection connection,
        NpgsqlTransaction transaction,
        IReadOnlyList<ClaimedJob> jobs,
        bool countRecovery,
        DateTimeOffset now,
        CancellationToken cancellationToken)
    {
        if (jobs.Count == 0)
        {
            return;
        }
        await using var command = new NpgsqlCommand("""
            WITH requeued AS (
                UPDATE delivery_jobs j
                SET status = 'queued', recovery_count = j.recovery_count + @recovery_increment, updated_at = @now
                FROM unnest(@ids) AS r(id)
                WHERE j.id = r.id
                RETURNING j.id
            )
            INSERT INTO outbox_messages (job_id, channel, payload, traceparent, tracestate, created_at, available_at, attempts)
            SELECT r.id, r.channel, r.payload::jsonb, @traceparent, @tracestate, @now, @now, 0
            FROM unnest(@ids, @channels, @payloads) WITH ORDINALITY AS r(id, channel, payload, position)
            WHERE r.id IN (SELECT id FROM requeued)
            ORDER BY r.position
            """, connection, transaction);
        command.Parameters.AddWithValue("recovery_increment", countRecovery ? 1 : 0);
        command.Parameters.AddWithValue("now", now);
        command.Parameters.AddWithValue("ids", jobs.Select(job => job.Id).ToArray());
        command.Parameters.AddWithValue("channels", jobs.Select(job => SnakeCaseEnum<DeliveryChannel>.ToName(job.Channel)).ToArray());
        command.Parameters.AddWithValue("payloads", jobs.Select(job => OutboxRows.Payload(job.ToDeliveryJob(now), now)).ToArray());
        command.Parameters.Add(new NpgsqlParameter("traceparent", NpgsqlDbType.Text) { Value = (object?)OutboxRows.TraceParent ?? DBNull.Value });
        command.Parameters.Add(new NpgsqlParameter("tracestate", NpgsqlDbType.Text) { Value = (object?)OutboxRows.TraceState ?? DBNull.Value });
        if (await command.ExecuteNonQueryAsync(cancellationToken) > 0)
        {
            await OutboxSignal.RaiseOnCommitAsync(connection, transaction, cancellationToken);
        }
    }
}
