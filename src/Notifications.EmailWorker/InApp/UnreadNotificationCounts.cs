using Notifications.EmailWorker.Delivery;
using Npgsql;

namespace Notifications.EmailWorker.InApp;

/// <summary>
/// How many unread inbox notifications a user has (the badge an in-app message carries): the counters the database keeps
/// in <c>inbox_counters</c>, read for every user of a group of concurrent attempts in one query. A user without a counter
/// has none unread.
/// </summary>
internal sealed class UnreadNotificationCounts : IAsyncDisposable
{
    private const string CountSql = "SELECT user_id, unread FROM inbox_counters WHERE user_id = ANY($1)";

    private readonly BatchingLoader<string, int> _loader;

    public UnreadNotificationCounts(NpgsqlDataSource dataSource) =>
        _loader = new BatchingLoader<string, int>((userIds, cancellationToken) => CountAsync(dataSource, userIds, cancellationToken), maxBatchSize: 500);

    public Task<int> GetAsync(string userId, CancellationToken cancellationToken) => _loader.LoadAsync(userId, cancellationToken);

    private static async Task<IReadOnlyDictionary<string, int>> CountAsync(
        NpgsqlDataSource dataSource, IReadOnlyCollection<string> userIds, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var command = new NpgsqlCommand(CountSql, connection);
        command.Parameters.Add(new NpgsqlParameter { Value = userIds.ToArray() });
        await command.PrepareAsync(cancellationToken);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var counts = new Dictionary<string, int>(userIds.Count, StringComparer.Ordinal);
        while (await reader.ReadAsync(cancellationToken))
        {
            counts[reader.GetString(0)] = reader.GetInt32(1);
        }
        return counts;
    }

    public ValueTask DisposeAsync() => _loader.DisposeAsync();
}
