using System.Threading.Channels;
using Notifications.Domain.Persistence;
using Npgsql;

namespace Notifications.Api.Outbox;

/// <summary>
/// What the API's writers call once they have committed outbox rows that are due now: <see cref="Signal"/> wakes this
/// process's relay at once, in-process, and has one <c>NOTIFY</c> on <see cref="OutboxSignal.ChannelName"/> sent in
/// the background so the relays of the other replicas wake too.
/// </summary>
/// <remarks>
/// The writers' own transactions do not notify: a transaction that notifies holds Postgres's database-wide notify lock
/// through its commit's WAL flush, which made every send commit one after another (no group commit). Here one
/// notification covers every signal since the previous one, and signals that arrive while it is being sent fold into
/// one more. A failed notification is logged and not retried: the relays poll, so the rows still go out.
/// </remarks>
internal sealed partial class OutboxWakeup(NpgsqlDataSource dataSource, OutboxRelayWake relayWake, ILogger<OutboxWakeup> logger)
    : BackgroundService
{
    // At most one notification waits to be sent; signals while it waits are dropped, since it covers them.
    private readonly Channel<bool> _pendingNotification = Channel.CreateBounded<bool>(
        new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite, SingleReader = true });

    /// <summary>Outbox rows due now were committed. Never blocks and never throws.</summary>
    public void Signal()
    {
        relayWake.Set();
        _pendingNotification.Writer.TryWrite(true);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            while (await _pendingNotification.Reader.WaitToReadAsync(stoppingToken))
            {
                // Taken before sending, so a signal that arrives while the NOTIFY is in flight queues one more.
                _pendingNotification.Reader.TryRead(out _);
                try
                {
                    await OutboxSignal.RaiseAsync(dataSource, stoppingToken);
                }
                catch (Exception exception) when (exception is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
                {
                    Log.NotifyFailed(logger, OutboxSignal.ChannelName, exception);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 4009, Level = LogLevel.Warning,
            Message = "Could not notify the other replicas' outbox relays on Postgres channel {Channel}; they find the rows at their next poll")]
        public static partial void NotifyFailed(ILogger logger, string channel, Exception exception);
    }
}
