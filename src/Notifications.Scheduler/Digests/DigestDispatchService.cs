using System.Globalization;
using Microsoft.Extensions.Options;
using Notifications.Domain.Digests;
using Notifications.Domain.Model;
using Notifications.Domain.Persistence;
using Notifications.Scheduler.Cron;
using Npgsql;
using NpgsqlTypes;

namespace Notifications.Scheduler.Digests;

/// <summary>
/// <c>digest-dispatch</c>: sends every digest schedule that is due (<c>active AND next_due_at &lt;= now</c>). Schedules
/// are claimed <c>FOR UPDATE SKIP LOCKED</c> in batches, and each batch is written by <see cref="DigestWriter"/> in the
/// same transaction, so any number of runs (or scheduler replicas) can work side by side and a crash at any point rolls
/// back to "still due, nothing sent, nothing folded".
/// </summary>
/// <remarks>
/// <c>next_due_at</c> advances with <see cref="DigestCalendar"/> from the later of the due instant and now: after an
/// outage a schedule sends one digest with everything pending, rather than one per missed period.
/// </remarks>
internal sealed partial class DigestDispatchService(
    NpgsqlDataSource dataSource,
    IOptions<SchedulerOptions> options,
    TimeProvider timeProvider,
    ILogger<DigestDispatchService> logger) : ICronJob
{
    public async Task RunAsync(CronRunTally tally, CancellationToken cancellationToken)
    {
        var settings = options.Value.Digests;
        var now = timeProvider.GetUtcNow();
        await ClaimedBatches.RunAsync<Guid>(
            (request, token) => DispatchBatchAsync(request, now, settings.BatchSize, tally, token),
            settings.BatchSize, settings.Parallelism, tally, logger, cancellationToken);
    }

    /// <summary><c>schedule:{id}:{dueAtUtc:O}</c>: names one period of one schedule.</summary>
    public static string PeriodKey(Guid scheduleId, DateTimeOffset dueAt) =>
        string.Create(CultureInfo.InvariantCulture, $"schedule:{scheduleId}:{dueAt.UtcDateTime:O}");

    private async Task<int> DispatchBatchAsync(
        BatchRequest<Guid> request, DateTimeOffset now, int batchSize, CronRunTally tally, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await using var claim = new NpgsqlCommand("""
            SELECT s.id, s.user_id, s.frequency, s.delivery_time, s.delivery_day, s.time_zone, s.max_items, s.next_due_at
            FROM digest_schedules s
            WHERE s.active AND s.next_due_at <= @now
              AND (@only IS NULL OR s.id = ANY (@only))
              AND NOT (s.id = ANY (@excluded))
            ORDER BY s.next_due_at
            LIMIT @batch_size
            FOR UPDATE SKIP LOCKED
            """, connection, transaction);
        claim.Parameters.AddWithValue("now", now);
        claim.Parameters.AddWithValue("batch_size", batchSize);
        request.AddParameters(claim, NpgsqlDbType.Uuid);

        var candidates = new List<DigestCandidate>();
        var claimed = 0;
        await using (var reader = await claim.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                claimed++;
                var scheduleId = reader.GetGuid(0);
                request.Claimed.Add(scheduleId);
                var dueAt = reader.GetFieldValue<DateTimeOffset>(7);
                DigestCadence cadence;
                try
                {
                    cadence = new DigestCadence(
                        SnakeCaseEnum<DigestFrequency>.FromName(reader.GetString(2)),
                        reader.GetFieldValue<TimeOnly>(3),
                        reader.IsDBNull(4) ? null : reader.GetInt16(4),
                        reader.GetString(5));
                }
                catch (ArgumentException exception)
                {
                    // Left due and untouched (the API validates what it writes, so someone must repair this row), and
                    // not claimed again this run.
                    request.Rejected.Add((scheduleId, exception));
                    Log.InvalidSchedule(logger, scheduleId, exception.Message);
                    continue;
                }
                candidates.Add(new DigestCandidate(
                    reader.GetString(1),
                    PeriodKey(scheduleId, dueAt),
                    reader.GetInt32(6),
                    scheduleId,
                    DigestCalendar.NextDue(cadence, dueAt > now ? dueAt : now)));
            }
        }

        var written = await DigestWriter.WriteAsync(connection, transaction, candidates, pendingSince: null, now, cancellationToken);
        await transaction.CommitAsync(cancellationToken);

        tally.Add(completed: written.Digests, skipped: candidates.Count - written.Digests);
        return claimed;
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 6040, Level = LogLevel.Error, Message = "Digest schedule {ScheduleId} cannot be sent: {Problem}")]
        public static partial void InvalidSchedule(ILogger logger, Guid scheduleId, string problem);
    }
}
