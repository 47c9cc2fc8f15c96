using Notifications.Domain.Model;
using Notifications.Domain.Persistence;
using Npgsql;
using NpgsqlTypes;

namespace Notifications.WorkerBench;

/// <summary>Writes users, notifications and queued jobs with binary COPY: seeding must not be what the run measures.</summary>
internal sealed class JobSeeder(NpgsqlDataSource dataSource, DeliveryChannel channel, int userCount)
{
    private readonly string[] _userIds = [.. Enumerable.Range(0, userCount).Select(index => $"bench-user-{index}")];

    public async Task CreateUsersAsync(CancellationToken cancellationToken)
    {
        var now = DateTimeOffset.UtcNow;
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var writer = await connection.BeginBinaryImportAsync(
            "COPY users (id, email, display_name, time_zone, email_enabled, muted_until, created_at, updated_at) FROM STDIN (FORMAT BINARY)",
            cancellationToken);
        foreach (var userId in _userIds)
        {
            await writer.StartRowAsync(cancellationToken);
            await writer.WriteAsync(userId, NpgsqlDbType.Text, cancellationToken);
            await writer.WriteAsync($"{userId}@bench.example", NpgsqlDbType.Text, cancellationToken);
            await writer.WriteAsync(userId, NpgsqlDbType.Text, cancellationToken);
            await writer.WriteAsync("UTC", NpgsqlDbType.Text, cancellationToken);
            await writer.WriteAsync(true, NpgsqlDbType.Boolean, cancellationToken);
            await writer.WriteNullAsync(cancellationToken);
            await writer.WriteAsync(now, NpgsqlDbType.TimestampTz, cancellationToken);
            await writer.WriteAsync(now, NpgsqlDbType.TimestampTz, cancellationToken);
        }
        await writer.CompleteAsync(cancellationToken);
    }

    /// <summary>Creates <paramref name="count"/> queued jobs (one notification each), round-robin over the users.</summary>
    public async Task<List<DeliveryJob>> CreateJobsAsync(int count, CancellationToken cancellationToken)
    {
        var now = DateTimeOffset.UtcNow;
        var jobs = new List<DeliveryJob>(count);
        var notificationIds = new Guid[count];
        for (var index = 0; index < count; index++)
        {
            notificationIds[index] = Guid.CreateVersion7();
            jobs.Add(new DeliveryJob
            {
                NotificationId = notificationIds[index],
                UserId = _userIds[index % _userIds.Length],
                Channel = channel,
                Status = DeliveryJobStatus.Queued,
                Priority = NotificationPriority.Normal,
                ScheduledFor = now,
                CreatedAt = now,
                UpdatedAt = now,
            });
        }

        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using (var writer = await connection.BeginBinaryImportAsync(
            "COPY notifications (id, user_id, type, category, priority, title, body, data, created_at) FROM STDIN (FORMAT BINARY)",
            cancellationToken))
        {
            for (var index = 0; index < count; index++)
            {
                await writer.StartRowAsync(cancellationToken);
                await writer.WriteAsync(notificationIds[index], NpgsqlDbType.Uuid, cancellationToken);
                await writer.WriteAsync(jobs[index].UserId, NpgsqlDbType.Text, cancellationToken);
                await writer.WriteAsync("comment.created", NpgsqlDbType.Text, cancellationToken);
                await writer.WriteAsync("social", NpgsqlDbType.Text, cancellationToken);
                await writer.WriteAsync("normal", NpgsqlDbType.Text, cancellationToken);
                await writer.WriteAsync($"New comment #{index}", NpgsqlDbType.Text, cancellationToken);
                await writer.WriteAsync("Someone replied to your post: \"Looks good to me, ship it.\"", NpgsqlDbType.Text, cancellationToken);
                await writer.WriteAsync($$"""{"postId":{{index}},"url":"/posts/{{index}}"}""", NpgsqlDbType.Jsonb, cancellationToken);
                await writer.WriteAsync(now, NpgsqlDbType.TimestampTz, cancellationToken);
            }
            await writer.CompleteAsync(cancellationToken);
        }
        await using (var writer = await connection.BeginBinaryImportAsync(
            "COPY delivery_jobs (id, kind, notification_id, user_id, channel, status, priority, attempts, recovery_count, scheduled_for, created_at, updated_at) FROM STDIN (FORMAT BINARY)",
            cancellationToken))
        {
            foreach (var job in jobs)
            {
                await writer.StartRowAsync(cancellationToken);
                await writer.WriteAsync(job.Id, NpgsqlDbType.Uuid, cancellationToken);
                await writer.WriteAsync("notification", NpgsqlDbType.Text, cancellationToken);
                await writer.WriteAsync(job.NotificationId!.Value, NpgsqlDbType.Uuid, cancellationToken);
                await writer.WriteAsync(job.UserId, NpgsqlDbType.Text, cancellationToken);
                await writer.WriteAsync(SnakeCaseEnum<DeliveryChannel>.ToName(job.Channel), NpgsqlDbType.Text, cancellationToken);
                await writer.WriteAsync("queued", NpgsqlDbType.Text, cancellationToken);
                await writer.WriteAsync("normal", NpgsqlDbType.Text, cancellationToken);
                await writer.WriteAsync(0, NpgsqlDbType.Integer, cancellationToken);
                await writer.WriteAsync(0, NpgsqlDbType.Integer, cancellationToken);
                await writer.WriteAsync(now, NpgsqlDbType.TimestampTz, cancellationToken);
                await writer.WriteAsync(now, NpgsqlDbType.TimestampTz, cancellationToken);
                await writer.WriteAsync(now, NpgsqlDbType.TimestampTz, cancellationToken);
            }
            await writer.CompleteAsync(cancellationToken);
        }
        // As autovacuum would have by then: statistics, and a visibility map for index-only counts of unread notifications.
        foreach (var table in new[] { "notifications", "delivery_jobs" })
        {
            await using var vacuum = new NpgsqlCommand($"VACUUM ANALYZE {table}", connection);
            await vacuum.ExecuteNonQueryAsync(cancellationToken);
        }
        return jobs;
    }
}
