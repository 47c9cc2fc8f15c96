using System.Threading.Channels;

namespace Notifications.Api.Outbox;

/// <summary>
/// Wakes this process's <see cref="OutboxRelay"/> between passes: set by <see cref="OutboxWakeup"/> when this process
/// committed outbox rows, and by the relay's own listener when a Postgres notification arrives. Wakes that come before
/// the relay looks again fold into one, and one that comes during a pass makes the next wait return at once, so no
/// row committed after a pass started waits for the poll.
/// </summary>
internal sealed class OutboxRelayWake(TimeProvider timeProvider)
{
    // Holds at most one pending wake; more are dropped, which is the folding.
    private readonly Channel<bool> _wakes = Channel.CreateBounded<bool>(
        new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite, SingleReader = true });

    /// <summary>Wakes the relay's current wait, or its next one. Never blocks.</summary>
    public void Set() => _wakes.Writer.TryWrite(true);

    /// <summary>Returns once woken (consuming the wake) or once <paramref name="timeout"/> has passed.</summary>
    public async Task WaitAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        if (_wakes.Reader.TryRead(out _))
        {
            return;
        }

        using var waiting = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var woken = _wakes.Reader.WaitToReadAsync(waiting.Token).AsTask();
        var elapsed = Task.Delay(timeout, timeProvider, waiting.Token);
        await Task.WhenAny(woken, elapsed);
        // Cancels whichever is still pending, so a wait that timed out leaves no waiter behind on the channel.
        await waiting.CancelAsync();
        cancellationToken.ThrowIfCancellationRequested();
        _wakes.Reader.TryRead(out _);
    }
}
