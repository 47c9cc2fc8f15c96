namespace Notifications.Domain.Persistence;

/// <summary>
/// The Postgres notification channel an outbox relay LISTENs on. A trigger on <c>outbox_messages</c> raises it when
/// a transaction that inserted rows commits, so writers need not NOTIFY themselves.
/// </summary>
public static class OutboxSignal
{
    public const string ChannelName = "outbox_messages_inserted";
}
