using System.Globalization;
using Microsoft.Extensions.Options;
using Notifications.Scheduler.Cron;
using Npgsql;
using NpgsqlTypes;

namespace Notifications.Scheduler.Digests;

/// <summary>
/// <c>default-daily-digest</c>: one digest per email-enabled, unmuted user without an active digest schedule of their
/// own, folding their non-critical emails not yet sent — their <c>digest_pending</c> email jobs — created in the last
/// <see cref="DigestSettings.DefaultLookback"/> (24 hours). Its period is the UTC day (<c>default:{yyyy-MM-dd}</c>), so
/// a second run the same day (a manual trigger) skips users who already have theirs.
/// </summary>
/// <remarks>
/// Users are walked in id order in batches, each written in one transaction by <see cref="DigestWriter"/>; parallel
/// workers each take a hash partition of the users with a cursor of their own. Nothing needs the user rows locked:
/// folding locks the jobs it moves, and the unique period key refuses a second digest for a user and day (the batch
/// then rolls back, and its users are retried one by one and skipped).
/// </remarks>
internal sealed class DefaultDigestService(
    NpgsqlDataSource dataSource,
    IOptions<SchedulerOptions> options,
    TimeProvider timeProvider,
    ILogger<DefaultDigestService> logger) : ICronJob
{
    public async Task RunAsync(CronRunTally tally, CancellationToken cancellationToken)
    {
        var settings = options.Value.Digests;
        var now = timeProvider.GetUtcNow();
        var run = new Run(PeriodKey(now), now - settings.DefaultLookback, settings.DefaultMaxItems, now,
            settings.BatchSize, settings.Parallelism, new string[settings.Parallelism]);
        await ClaimedBatches.RunAsync<string>(
            (request, token) => DigestBatchAsync(request, run, tally, token),
            settings.BatchSize, settings.Parallelism, tally, logger, cancellationToken);
    }

    /// <summary><c>default:{yyyy-MM-dd}</c>: the UTC day of the run.</summary>
    public static string PeriodKey(DateTimeOffset now) =>
        string.Create(CultureInfo.InvariantCulture, $"default:{now.UtcDateTime:yyyy-MM-dd}");

    /// <param name="After">Per worker, the last user id it claimed (null before its first batch).</param>
    private sealed record Run(
        string PeriodKey, DateTimeOffset PendingSince, int MaxItems, DateTimeOffset Now, int BatchSize, int Workers, string?[] After);

    private async Task<int> DigestBatchAsync(BatchRequest<string> request, Run run, CronRunTally tally, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await using var claim = new NpgsqlCommand("""
            SELECT u.id
            FROM users u
            WHERE (@after IS NULL OR u.id > @after)
              AND (hashtext(u.id) & 2147483647) % @workers = @worker
              AND u.email_enabled AND (u.muted_until IS NULL OR u.muted_until <= @now)
              AND NOT EXISTS (SELECT 1 FROM digest_schedules s WHERE s.user_id = u.id AND s.active)
              AND EXISTS (SELECT 1 FROM delivery_jobs j
                          WHERE j.user_id = u.id AND j.status = 'digest_pending' AND j.channel = 'email' AND j.created_at >= @pending_since)
              AND NOT EXISTS (SELECT 1 FROM delivery_jobs d WHERE d.user_id = u.id AND d.digest_period_key = @period_key)
              AND (@only IS NULL OR u.id = ANY (@only))
              AND NOT (u.id = ANY (@excluded))
            ORDER BY u.id
            LIMIT @batch_size
            """, connection, transaction);
        claim.Parameters.Add(new NpgsqlParameter("after", NpgsqlDbType.Text) { Value = (object?)(request.IsRetry ? null : run.After[request.Worker]) ?? DBNull.Value });
        claim.Parameters.AddWithValue("workers", request.IsRetry ? 1 : run.Workers);
        claim.Parameters.AddWithValue("worker", request.IsRetry ? 0 : request.Worker);
        claim.Parameters.AddWithValue("now", run.Now);
        claim.Parameters.AddWithValue("pending_since", run.PendingSince);
        claim.Parameters.AddWithValue("period_key", run.PeriodKey);
        claim.Parameters.AddWithValue("batch_size", run.BatchSize);
        request.AddParameters(claim, NpgsqlDbType.Text);

        await using (var reader = await claim.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                request.Claimed.Add(reader.GetString(0));
            }
        }
        if (!request.IsRetry && request.Claimed.Count > 0)
        {
            // Moved before writing: a batch that fails is retried user by user, not by this cursor.
            run.After[request.Worker] = request.Claimed[^1];
        }

        var candidates = request.Claimed.Select(userId => new DigestCandidate(userId, run.PeriodKey, run.MaxItems, null, null)).ToList();
        var written = await DigestWriter.WriteAsync(connection, transaction, candidates, run.PendingSince, run.Now, cancellationToken);
        await transaction.CommitAsync(cancellationToken);

        tally.Add(completed: written.Digests, skipped: candidates.Count - written.Digests);
        return candidates.Count;
    }
}
