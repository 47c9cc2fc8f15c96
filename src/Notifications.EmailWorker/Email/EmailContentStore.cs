using System.Threading.Channels;
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
/// Loads what an email job needs: the recipient with the notification and the user's email preference for it, or, for
/// a digest, the recipient and the digest's newest items with their total (one batch of two queries). Notification
/// loads that arrive while earlier ones are in flight are answered together by one query (up to
/// <see cref="MaximumBatch"/> jobs, at most <see cref="MaximumQueriesInFlight"/> queries at once): a lone job is loaded
/// at once, and under load each job costs a row rather than a round trip. Items of a type or category the user has
/// turned email off for since are left out of digests.
/// </summary>
internal sealed class EmailContentStore(NpgsqlDataSource dataSource)
{
    public const int MaximumBatch = 128;
    public const int MaximumQueriesInFlight = 4;

    // The type rule wins over the category rule; no rule means email is allowed.
    private const string EmailAllowedSql = """
        COALESCE(
            (SELECT p.enabled FROM notification_preferences p
             WHERE p.user_id = n.user_id AND p.scope = 'type' AND p.scope_key = n.type AND p.channel = 'email'),
            (SELECT p.enabled FROM notification_preferences p
             WHERE p.user_id = n.user_id AND p.scope = 'category' AND p.scope_key = n.category AND p.channel = 'email'),
            true)
        """;

    private const string NotificationsSql = $"""
        SELECT r.ordinal, u.email, u.display_name, u.email_enabled, u.muted_until,
               n.type, n.category, n.title, n.body, n.data::text, n.created_at, {EmailAllowedSql}
        FROM unnest($1::text[], $2::uuid[]) WITH ORDINALITY AS r (user_id, notification_id, ordinal)
        JOIN users u ON u.id = r.user_id
        JOIN notifications n ON n.id = r.notification_id AND n.user_id = u.id
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

    private readonly Channel<PendingLoad> _pending = Channel.CreateUnbounded<PendingLoad>();
    private int _queriesInFlight;

    /// <summary>Null when the recipient or the notification no longer exists.</summary>
    public Task<EmailContent?> LoadAsync(DeliveryJob job, CancellationToken cancellationToken)
    {
        if (job.Kind == DeliveryJobKind.Digest)
        {
            return LoadDigestAsync(job, cancellationToken);
        }
        var load = new PendingLoad(job.UserId, job.NotificationId!.Value);
        _pending.Writer.TryWrite(load);
        StartQueryIfRoom();
        return load.Completion.Task.WaitAsync(cancellationToken);
    }

    private void StartQueryIfRoom()
    {
        if (Interlocked.Increment(ref _queriesInFlight) <= MaximumQueriesInFlight)
        {
            _ = LoadPendingAsync();
        }
        else
        {
            Interlocked.Decrement(ref _queriesInFlight);
        }
    }

    private async Task LoadPendingAsync()
    {
        try
        {
            var batch = new List<PendingLoad>();
            while (_pending.Reader.TryRead(out var first))
            {
                batch.Add(first);
                while (batch.Count < MaximumBatch && _pending.Reader.TryRead(out var next))
                {
                    batch.Add(next);
                }
                await LoadBatchAsync(batch);
                batch.Clear();
            }
        }
        finally
        {
            Interlocked.Decrement(ref _queriesInFlight);
            // A load queued after the last read above, while every query slot looked taken, still gets a query.
            if (_pending.Reader.TryPeek(out _))
            {
                StartQueryIfRoom();
            }
        }
    }

    private async Task LoadBatchAsync(List<PendingLoad> batch)
    {
        var found = new EmailContent?[batch.Count];
        try
        {
            await using var command = dataSource.CreateCommand(NotificationsSql);
            command.Parameters.Add(new NpgsqlParameter { Value = batch.ConvertAll(load => load.UserId).ToArray() });
            command.Parameters.Add(new NpgsqlParameter { Value = batch.ConvertAll(load => load.NotificationId).ToArray() });
            await using var reader = await command.ExecuteReaderAsync();
            while (await reader.ReadAsync())
            {
                var index = (int)reader.GetInt64(0) - 1;
                found[index] = new NotificationEmailContent(
                    ReadRecipient(batch[index].UserId, reader, offset: 1),
                    reader.GetString(5),
                    reader.GetString(6),
                    reader.GetString(7),
                    reader.GetString(8),
                    reader.GetString(9),
                    reader.GetFieldValue<DateTimeOffset>(10),
                    reader.GetBoolean(11));
            }
        }
        catch (Exception exception)
        {
            foreach (var load in batch)
            {
                load.Completion.TrySetException(exception);
            }
            return;
        }
        for (var i = 0; i < batch.Count; i++)
        {
            batch[i].Completion.TrySetResult(found[i]);
        }
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
        var recipient = ReadRecipient(job.UserId, reader, offset: 0);
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

    private static EmailRecipient ReadRecipient(string userId, NpgsqlDataReader reader, int offset) => new(
        userId,
        reader.IsDBNull(offset) ? null : reader.GetString(offset),
        reader.IsDBNull(offset + 1) ? null : reader.GetString(offset + 1),
        reader.GetBoolean(offset + 2),
        reader.IsDBNull(offset + 3) ? null : reader.GetFieldValue<DateTimeOffset>(offset + 3));

    private sealed class PendingLoad(string userId, Guid notificationId)
    {
        public string UserId { get; } = userId;
        public Guid NotificationId { get; } = notificationId;
        public TaskCompletionSource<EmailContent?> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
