using System.Text.Json;
using Notifications.Domain.Model;
using Notifications.EmailWorker.Delivery;
using Npgsql;

namespace Notifications.EmailWorker.Email;

/// <summary>The recipient as the users table has them.</summary>
public sealed record EmailRecipient(string UserId, string? Address, string? DisplayName, bool EmailEnabled, DateTimeOffset? MutedUntil)
{
    public static EmailRecipient From(User user) => new(user.Id, user.Email, user.DisplayName, user.EmailEnabled, user.MutedUntil);
}

/// <summary>What one email job delivers: a notification, or a digest's items.</summary>
public abstract record EmailContent(EmailRecipient Recipient);

/// <param name="EmailAllowed">The user's preference for this type, else for its category (an unsubscribe writes one), else true.</param>
public sealed record NotificationEmailContent(
    EmailRecipient Recipient,
    string Type,
    string Category,
    string Title,
    string Body,
    JsonElement Data,
    DateTimeOffset CreatedAt,
    bool EmailAllowed) : EmailContent(Recipient);

/// <param name="Items">The newest items, at most the digest's <c>digest_max_items</c>.</param>
/// <param name="TotalItems">How many items the digest delivers in all (the rest are "and N more").</param>
public sealed record DigestEmailContent(EmailRecipient Recipient, IReadOnlyList<DigestItem> Items, int TotalItems) : EmailContent(Recipient);

public sealed record DigestItem(string Type, string Category, string Title, string Body, DateTimeOffset CreatedAt);

/// <summary>
/// Loads what an email job needs beyond what the consumer's claim already loaded. For a notification the claim brings
/// the recipient and the notification, so only the user's email preference for it is looked up, and the lookups of
/// attempts running side by side share one query (a <see cref="BatchingLoader{TKey,TValue}"/>): under load each job
/// costs a row rather than a round trip. An attempt without them (the claim found the notification gone, or a caller
/// other than the consumer) loads them here. A digest loads the recipient and the digest's newest items with their total
/// (one batch of two queries); items of a type or category the user has turned email off for since are left out.
/// </summary>
internal sealed class EmailContentStore : IAsyncDisposable
{
    public const int MaximumBatch = 500;

    // The type rule wins over the category rule; no rule means email is allowed.
    private const string EmailAllowedSql = """
        COALESCE(
            (SELECT p.enabled FROM notification_preferences p
             WHERE p.user_id = n.user_id AND p.scope = 'type' AND p.scope_key = n.type AND p.channel = 'email'),
            (SELECT p.enabled FROM notification_preferences p
             WHERE p.user_id = n.user_id AND p.scope = 'category' AND p.scope_key = n.category AND p.channel = 'email'),
            true)
        """;

    // One row per key asked, in the order asked (the rows stand in for notifications: same user, type and category).
    private const string PreferencesSql = $"""
        SELECT n.ordinal, {EmailAllowedSql}
        FROM unnest($1::text[], $2::text[], $3::text[]) WITH ORDINALITY AS n (user_id, type, category, ordinal)
        """;

    private const string NotificationSql = """
        SELECT u.email, u.display_name, u.email_enabled, u.muted_until, n.type, n.category, n.title, n.body, n.data::text, n.created_at
        FROM notifications n
        JOIN users u ON u.id = n.user_id
        WHERE n.id = $1 AND n.user_id = $2
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

    private readonly NpgsqlDataSource _dataSource;
    private readonly BatchingLoader<PreferenceKey, bool> _preferences;

    public EmailContentStore(NpgsqlDataSource dataSource)
    {
        _dataSource = dataSource;
        _preferences = new BatchingLoader<PreferenceKey, bool>(LoadPreferencesAsync, MaximumBatch);
    }

    /// <summary>Null when the recipient or the notification no longer exists.</summary>
    public async Task<EmailContent?> LoadAsync(DeliveryAttempt attempt, CancellationToken cancellationToken)
    {
        var job = attempt.Job;
        if (job.Kind == DeliveryJobKind.Digest)
        {
            return await LoadDigestAsync(job, cancellationToken);
        }
        if (attempt is { Notification: { } notification, Recipient: { } user })
        {
            var allowed = await _preferences.LoadAsync(new PreferenceKey(user.Id, notification.Type, notification.Category), cancellationToken);
            return new NotificationEmailContent(
                EmailRecipient.From(user),
                notification.Type,
                notification.Category,
                notification.Title,
                notification.Body,
                notification.Data.RootElement,
                notification.CreatedAt,
                allowed);
        }
        return await LoadNotificationAsync(job, cancellationToken);
    }

    private async Task<EmailContent?> LoadNotificationAsync(DeliveryJob job, CancellationToken cancellationToken)
    {
        await using var command = _dataSource.CreateCommand(NotificationSql);
        command.Parameters.Add(new NpgsqlParameter { Value = job.NotificationId!.Value });
        command.Parameters.Add(new NpgsqlParameter { Value = job.UserId });
        EmailRecipient recipient;
        string type, category, title, body;
        JsonElement data;
        DateTimeOffset createdAt;
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
        {
            if (!await reader.ReadAsync(cancellationToken))
            {
                return null;
            }
            recipient = ReadRecipient(job.UserId, reader);
            (type, category, title, body) = (reader.GetString(4), reader.GetString(5), reader.GetString(6), reader.GetString(7));
            data = JsonElement.Parse(reader.GetString(8));
            createdAt = reader.GetFieldValue<DateTimeOffset>(9);
        }
        var allowed = await _preferences.LoadAsync(new PreferenceKey(job.UserId, type, category), cancellationToken);
        return new NotificationEmailContent(recipient, type, category, title, body, data, createdAt, allowed);
    }

    private async Task<IReadOnlyDictionary<PreferenceKey, bool>> LoadPreferencesAsync(IReadOnlyCollection<PreferenceKey> keys, CancellationToken cancellationToken)
    {
        var ordered = keys.ToArray();
        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken);
        await using var command = new NpgsqlCommand(PreferencesSql, connection);
        command.Parameters.Add(new NpgsqlParameter { Value = Array.ConvertAll(ordered, key => key.UserId) });
        command.Parameters.Add(new NpgsqlParameter { Value = Array.ConvertAll(ordered, key => key.Type) });
        command.Parameters.Add(new NpgsqlParameter { Value = Array.ConvertAll(ordered, key => key.Category) });
        await command.PrepareAsync(cancellationToken);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var allowed = new Dictionary<PreferenceKey, bool>(ordered.Length);
        while (await reader.ReadAsync(cancellationToken))
        {
            allowed[ordered[(int)reader.GetInt64(0) - 1]] = reader.GetBoolean(1);
        }
        return allowed;
    }

    private async Task<EmailContent?> LoadDigestAsync(DeliveryJob job, CancellationToken cancellationToken)
    {
        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken);
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

    /// <summary>Reads the recipient from the first four columns (email, display name, email enabled, muted until).</summary>
    private static EmailRecipient ReadRecipient(string userId, NpgsqlDataReader reader) => new(
        userId,
        reader.IsDBNull(0) ? null : reader.GetString(0),
        reader.IsDBNull(1) ? null : reader.GetString(1),
        reader.GetBoolean(2),
        reader.IsDBNull(3) ? null : reader.GetFieldValue<DateTimeOffset>(3));

    public ValueTask DisposeAsync() => _preferences.DisposeAsync();

    private readonly record struct PreferenceKey(string UserId, string Type, string Category);
}
