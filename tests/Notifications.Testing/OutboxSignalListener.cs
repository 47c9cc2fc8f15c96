using System.Threading.Channels;
using Notifications.Domain.Persistence;
using Npgsql;
using Xunit;

namespace Notifications.Testing;

/// <summary>
/// A connection LISTENing on <see cref="OutboxSignal.ChannelName"/> in one database, as the relay of another process
/// does: it sees the outbox signals that writers raise there.
/// </summary>
public sealed class OutboxSignalListener : IAsyncDisposable
{
    /// <summary>How long to wait for a notification before failing: generous, for a loaded machine.</summary>
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);

    private readonly string _connectionString;
    private readonly NpgsqlConnection _connection;
    private readonly Channel<string> _payloads = Channel.CreateUnbounded<string>();
    private readonly CancellationTokenSource _stopping = new();
    private Task _receiving = Task.CompletedTask;

    private OutboxSignalListener(string connectionString, NpgsqlConnection connection)
    {
        _connectionString = connectionString;
        _connection = connection;
        _connection.Notification += (_, notification) => _payloads.Writer.TryWrite(notification.Payload);
    }

    private static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    /// <summary>Listens from now on: a signal committed after this returns is seen.</summary>
    public static async Task<OutboxSignalListener> StartAsync(string connectionString)
    {
        var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(Cancellation);
        var listener = new OutboxSignalListener(connectionString, connection);
        await OutboxSignal.ListenAsync(connection, Cancellation);
        listener._receiving = listener.ReceiveAsync();
        return listener;
    }

    /// <summary>Waits for the next outbox signal; fails when none arrives within a generous deadline.</summary>
    public async Task NextSignalAsync()
    {
        var payload = await NextPayloadAsync("outbox signal");
        if (payload.Length > 0)
        {
            throw new InvalidOperationException($"Expected an outbox signal (no payload), got a notification with payload '{payload}'.");
        }
    }

    /// <summary>
    /// How many outbox signals arrive before a marker this call notifies on the same channel: exactly those of the
    /// transactions that committed before it, since Postgres delivers notifications in commit order.
    /// </summary>
    public async Task<int> CountSignalsBeforeMarkerAsync()
    {
        var marker = Guid.NewGuid().ToString("N");
        await using (var connection = new NpgsqlConnection(_connectionString))
        {
            await connection.OpenAsync(Cancellation);
            await using var notify = new NpgsqlCommand("SELECT pg_notify(@channel, @marker)", connection);
            notify.Parameters.AddWithValue("channel", OutboxSignal.ChannelName);
            notify.Parameters.AddWithValue("marker", marker);
            await notify.ExecuteNonQueryAsync(Cancellation);
        }

        var signals = 0;
        while (await NextPayloadAsync("marker notification") != marker)
        {
            signals++;
        }
        return signals;
    }

    private async Task<string> NextPayloadAsync(string what)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(Cancellation);
        deadline.CancelAfter(Deadline);
        try
        {
            return await _payloads.Reader.ReadAsync(deadline.Token);
        }
        catch (OperationCanceledException) when (!Cancellation.IsCancellationRequested)
        {
            throw new TimeoutException($"No {what} arrived on {OutboxSignal.ChannelName} within {Deadline}.");
        }
    }

    /// <summary>Npgsql reads notifications only while the connection is waiting.</summary>
    private async Task ReceiveAsync()
    {
        try
        {
            while (true)
            {
                await _connection.WaitAsync(_stopping.Token);
            }
        }
        catch (Exception) when (_stopping.IsCancellationRequested)
        {
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync();
        await _receiving;
        await _connection.DisposeAsync();
        _stopping.Dispose();
    }
}
