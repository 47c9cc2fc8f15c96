using System.Text.Json;
using Notifications.EmailWorker.Delivery;
using Npgsql;
using NpgsqlTypes;

namespace Notifications.EmailWorker.Email.Providers;

/// <summary>
/// The default "provider" while real email is off: stores each email in <c>dev_mailbox_messages</c>, where the API's
/// Development-only <c>/api/dev/mailbox</c> lists it. One message per idempotency key: a repeat returns the first
/// message's id.
/// </summary>
internal sealed class DevMailboxEmailSender(NpgsqlDataSource dataSource, TimeProvider timeProvider) : IEmailSender
{
    private const string InsertSql = """
        INSERT INTO dev_mailbox_messages (id, idempotency_key, from_address, to_address, subject, html, text, headers, created_at)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
        ON CONFLICT (idempotency_key) DO NOTHING
        RETURNING id
        """;

    private const string ExistingSql = "SELECT id FROM dev_mailbox_messages WHERE idempotency_key = $1";

    public string Name => EmailOptions.DevMailboxProvider;

    public async Task<DeliveryResult> SendAsync(EmailMessage message, CancellationToken cancellationToken)
    {
        try
        {
            await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
            await using var insert = new NpgsqlCommand(InsertSql, connection)
            {
                Parameters =
                {
                    new() { Value = Guid.CreateVersion7() },
                    new() { Value = message.IdempotencyKey },
                    new() { Value = message.From },
                    new() { Value = message.To },
                    new() { Value = message.Subject },
                    new() { Value = message.Html },
                    new() { Value = message.Text },
                    new() { Value = HeadersJson(message.Headers), NpgsqlDbType = NpgsqlDbType.Jsonb },
                    new() { Value = timeProvider.GetUtcNow() },
                },
            };
            if (await insert.ExecuteScalarAsync(cancellationToken) is Guid inserted)
            {
                return new DeliveryResult.Sent(Name, inserted.ToString("D"));
            }
            await using var existing = new NpgsqlCommand(ExistingSql, connection) { Parameters = { new() { Value = message.IdempotencyKey } } };
            var id = (Guid)(await existing.ExecuteScalarAsync(cancellationToken))!;
            return new DeliveryResult.Sent(Name, id.ToString("D"), ResponseExcerpt: "already in the dev mailbox");
        }
        catch (Exception exception) when (exception is NpgsqlException or TimeoutException && !cancellationToken.IsCancellationRequested)
        {
            return new DeliveryResult.TransientFailure(Name, $"the dev mailbox could not be written: {exception.Message}");
        }
    }

    private static string HeadersJson(IReadOnlyList<KeyValuePair<string, string>> headers)
    {
        using var buffer = new MemoryStream(256);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            foreach (var (name, value) in headers)
            {
                writer.WriteString(name, value);
            }
            writer.WriteEndObject();
        }
        return System.Text.Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length);
    }
}
