using Notifications.Domain.Model;
using Notifications.Domain.Persistence;
using Npgsql;

namespace Notifications.Scheduler.Jobs;

/// <summary>A delivery job locked by a claim query: what requeueing or dead-lettering it needs.</summary>
internal sealed record ClaimedJob(
    Guid Id,
    DeliveryJobKind Kind,
    Guid? NotificationId,
    string UserId,
    DeliveryChannel Channel,
    NotificationPriority Priority,
    DeliveryJobStatus Status,
    int RecoveryCount,
    DateTimeOffset UpdatedAt)
{
    /// <summary>The columns <see cref="ReadAsync"/> expects, in order, for a query over <c>delivery_jobs j</c>.</summary>
    public const string Columns = "j.id, j.kind, j.notification_id, j.user_id, j.channel, j.priority, j.status, j.recovery_count, j.updated_at";

    public static async Task<List<ClaimedJob>> ReadAsync(NpgsqlCommand command, CancellationToken cancellationToken)
    {
        var jobs = new List<ClaimedJob>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            jobs.Add(new ClaimedJob(
                reader.GetGuid(0),
                SnakeCaseEnum<DeliveryJobKind>.FromName(reader.GetString(1)),
                reader.IsDBNull(2) ? null : reader.GetGuid(2),
                reader.GetString(3),
                SnakeCaseEnum<DeliveryChannel>.FromName(reader.GetString(4)),
                SnakeCaseEnum<NotificationPriority>.FromName(reader.GetString(5)),
                SnakeCaseEnum<DeliveryJobStatus>.FromName(reader.GetString(6)),
                reader.GetInt32(7),
                reader.GetFieldValue<DateTimeOffset>(8)));
        }
        return jobs;
    }

    /// <summary>The job as the outbox payload needs it (its identity, user, channel and priority).</summary>
    public DeliveryJob ToDeliveryJob(DateTimeOffset now) => new()
    {
        Id = Id,
        Kind = Kind,
        NotificationId = NotificationId,
        UserId = UserId,
        Channel = Channel,
        Status = Status,
        Priority = Priority,
        ScheduledFor = now,
        CreatedAt = now,
        UpdatedAt = now,
    };
}
