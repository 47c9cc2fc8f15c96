using Notifications.Domain.Model;
using Npgsql;

namespace Notifications.EmailWorker.Email;

/// <summary>The recipient as the users table has them.</summary>
public sealed record EmailRecipient(string UserId, string? Address, string? DisplayName, bool EmailEnabled, DateTimeOffset? MutedUntil);

/// <summary>What one email job delivers: a notification, or a digest's items.</summary>
public abstract record EmailContent(EmailRecipient Recipient);

/// <param name="EmailAllowed">The user's preference for this type, else for its category (an unsubscribe writes one), else true.</param>
public sealed record NotificationEmailContent(
    EmailRecipient Recipient,
    string Type,
    string Category,
    string Title,
    string Body,
    string DataJson,
    DateTimeOffset CreatedAt,
    bool EmailAllowed) : EmailContent(Recipient);

/// <param name="Items">The newest items, at most the digest's <c>digest_max_items</c>.</param>
/// <param name="TotalItems">How many items the digest delivers in all (the rest are "and N more").</param>
public sealed record DigestEmailContent(EmailRecipient Recipient, IReadOnlyList<DigestItem> Items, int TotalItems) : EmailContent(Recipient);

public sealed record DigestItem(string Type, string Category, string Title, string Body, DateTimeOffset CreatedAt);

/// <summary>
/// Loads what an email job needs in one round trip: the recipient with the notification and the user's email
/// preference for it (one query), or, for a digest, the recipient and the digest's newest items with their total (one
/// batch of two queries). Items of a type or category the user has turned email off for since are left out.
/// </summary>
internal sealed class EmailContentStore(NpgsqlDataSource dataSource)
{
    // The type rule wins over the category rule; no rule means email is allowed.
    private const string EmailAllowedSql = """
        COALESCE(
            (SELECT p.enabled FROM notification_preferences p
             WHERE p.user_id = n.user_id AND p.scope = 'type' AND p.scope_key = n.type AND p.channel = 'email'),
            (SELECT p.enabled FROM notification_preferences p
             WHERE p.user_id = n.user_id AND p.scope = 'category' AND p.scope_key = n.category AND p.channel = 'email'),
            true)
        """;

    private const string NotificationSql = $"""
        SELECT u.email, u.display_name, u.email_enabled, u.muted_until,
               n.type, n.category, n.title, n.body, n.data::text, n.created_at, {EmailAllowedSql}
        FROM users u
        JOIN notifications n ON n.id = $2 AND n.user_id = u.id
        WHERE u.id = $1
        """;

    private const string RecipientSql = "SELECT u.email, u.display_name, u.email_enabled, u.muted_until FROM users u WHERE u.id = $1";

    private const string DigestItemsSql = $"""
        SELECT n.type, n.category, n.title, n.body, n.created_at, count(*) OVER ()
        FROM delivery_jobs j
        JOIN notifications n ON n.id = j.notification_id
        WHERE j.digest_job_id = $1 AND {EmailAllowedSql}
        ORDER BY n.created_at DESC, n.id DESC
        LIMIT $2
        """;

    /// <summary>Null when the recipient or the notification no longer exists.</summary>
    public async Task<EmailContent?> LoadAsync(DeliveryJob job, CancellationToken cancellationToken) =>
        job.Kind == DeliveryJobKind.Digest
            ? await LoadDigestAsync(job, cancellationToken)
            : await LoadNotificationAsync(job, cancellationToken);

    private async Task<EmailContent?> LoadNotificationAsync(DeliveryJob job, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(NotificationSql);
        command.Parameters.Add(new NpgsqlParameter { Value = job.UserId });
        command.Parameters.Add(new NpgsqlParameter { Value = job.NotificationId!.Value });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        if (!await reader.ReadAsync(cancellationToken))
        {
            return null;
        }
        return new NotificationEmailContent(
            ReadRecipient(job.UserId, reader),
            reader.GetString(4),
            reader.GetString(5),
            reader.GetString(6),
            reader.GetString(7),
            reader.GetString(8),
            reader.GetFieldValue<DateTimeOffset>(9),
            reader.GetBoolean(10));
    }

    private async Task<EmailContent?> LoadDigestAsync(DeliveryJob job, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var batch = new NpgsqlBatch(connection)
        {
            BatchCommands =
            {
                new NpgsqlBatchCommand(RecipientSql) { Parameters = { new() { Value = job.UserId } } },
                new NpgsqlBatchCommand(DigestItemsSql) { Parameters = { new() { Value = job.Id }, new() { Value = job.DigestMaxItems ?? int.MaxValue } } },
            },
        };
        await using var reader = await batch.ExecuteReaderAsync(cancellationToken);
        if (!await reader.ReadAsync(cancellationToken))
        {
            return null;
        }
        var recipient = ReadRecipient(job.UserId, reader);
        await reader.NextResultAsync(cancellationToken);
        var items = new List<DigestItem>();
        var total = 0;
        while (await reader.ReadAsync(cancellationToken))
        {
            items.Add(new DigestItem(reader.GetString(0), reader.GetString(1), reader.GetString(2), reader.GetString(3), reader.GetFieldValue<DateTimeOffset>(4)));
            total = (int)reader.GetInt64(5);
        }
        return new DigestEmailContent(recipient, items, total);
    }

    private static EmailRecipient ReadRecipient(string userId, NpgsqlDataReader reader) => new(
        userId,
        reader.IsDBNull(0) ? null : reader.GetString(0),
        reader.IsDBNull(1) ? null : reader.GetString(1),
        reader.GetBoolean(2),
        reader.IsDBNull(3) ? null : reader.GetFieldValue<DateTimeOffset>(3));
}
