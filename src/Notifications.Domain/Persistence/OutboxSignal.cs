using Npgsql;

namespace Notifications.Domain.Persistence;

/// <summary>
/// The Postgres notification channel the outbox relays LISTEN on, and how writers raise it. Writers of outbox rows
/// that are due now signal it themselves (no trigger does); rows due later need no signal, since the relays also poll.
/// </summary>
/// <remarks>
/// A transaction that notifies takes Postgres's database-wide notify-queue lock at pre-commit and holds it through its
/// commit's WAL flush, so such transactions commit one at a time. That is harmless for rare, batched writes (the
/// scheduler's), which notify in their own transaction; the API's send path instead signals after its commit, through
/// its in-process wakeup that sends one notification for many commits.
/// </remarks>
public static class OutboxSignal
{
    public const string ChannelName = "outbox_messages_inserted";

    private const string NotifySql = "NOTIFY " + ChannelName;

    /// <summary>
    /// Notifies the relays when <paramref name="transaction"/> commits (Postgres delivers notifications only on commit,
    /// and folds identical ones raised in one transaction).
    /// </summary>
    public static async Task RaiseOnCommitAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(NotifySql, connection, transaction);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>Notifies the relays now, in a statement of its own on a pooled connection.</summary>
    public static async Task RaiseAsync(NpgsqlDataSource dataSource, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(NotifySql);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>Subscribes <paramref name="connection"/> to the signal; notifications then arrive while it waits.</summary>
    public static async Task ListenAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand("LISTEN " + ChannelName, connection);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }
}
