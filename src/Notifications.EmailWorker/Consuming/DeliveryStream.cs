using Notifications.Domain.Messaging;
using Notifications.Domain.Redis;
using StackExchange.Redis;

namespace Notifications.EmailWorker.Consuming;

/// <summary>An entry read from a delivery stream; <see cref="Fields"/> is null when the entry was deleted from the stream.</summary>
internal sealed record StreamEntry(string Id, RedisValue[]? Fields);

/// <summary>A stream's consumer group as <c>XINFO GROUPS</c> and <c>XPENDING</c> describe it.</summary>
/// <param name="Lag">Entries not yet delivered to any consumer (null when Redis cannot tell, e.g. after deletions).</param>
/// <param name="Pending">Entries delivered but not acknowledged.</param>
/// <param name="LastDeliveredId">The newest entry delivered to the group.</param>
/// <param name="OldestPendingId">The oldest unacknowledged entry, if any.</param>
internal sealed record ConsumerGroupState(long? Lag, long Pending, string LastDeliveredId, string? OldestPendingId);

/// <summary>
/// The stream commands of one channel's consumer, through <c>ExecuteAsync</c> (StackExchange.Redis 1.2.6 has no stream
/// API). Blocking reads go over a connection of their own: the shared multiplexer pipelines every command of the process
/// on one socket, so a read blocked there would hold up every other command behind it.
/// </summary>
internal sealed class DeliveryStream(string streamName, string consumerName, IDatabase redis, IDatabase blockingRedis)
{
    /// <summary>How long a non-blocking command may take before the operation counts as failed (Redis answers in about a millisecond).</summary>
    public static readonly TimeSpan CommandTimeout = TimeSpan.FromSeconds(5);

    public string Name => streamName;

    public string ConsumerName => consumerName;

    /// <summary>
    /// Creates the consumer group reading from the stream's start (id 0, so entries appended before the group existed
    /// are delivered too), and the stream if it does not exist yet; an existing group is left as it is.
    /// </summary>
    public async Task EnsureGroupAsync(CancellationToken cancellationToken)
    {
        try
        {
            await redis.ExecuteAsync("XGROUP", "CREATE", streamName, DeliveryStreams.ConsumerGroup, "0", "MKSTREAM")
                .WaitAsync(CommandTimeout, cancellationToken);
        }
        catch (RedisServerException exception) when (exception.Message.StartsWith("BUSYGROUP", StringComparison.Ordinal))
        {
            // Another consumer created it first.
        }
    }

    /// <summary>Whether Redis answered that the stream or its group does not exist (e.g. Redis restarted empty).</summary>
    public static bool IsMissingGroup(Exception exception) =>
        exception is RedisServerException && exception.Message.StartsWith("NOGROUP", StringComparison.Ordinal);

    /// <summary>
    /// Reads up to <paramref name="count"/> entries never delivered to the group, waiting up to <paramref name="block"/>
    /// for some to arrive. Cancelling abandons the wait (the command cannot be withdrawn): entries Redis delivers after
    /// that stay pending on this consumer until another one reclaims them.
    /// </summary>
    public async Task<IReadOnlyList<StreamEntry>> ReadNewAsync(int count, TimeSpan block, CancellationToken cancellationToken)
    {
        var result = await blockingRedis.ExecuteAsync(
                "XREADGROUP", "GROUP", DeliveryStreams.ConsumerGroup, consumerName,
                "COUNT", count, "BLOCK", (long)block.TotalMilliseconds, "STREAMS", streamName, ">")
            .WaitAsync(block + CommandTimeout, cancellationToken);
        if (result.IsNull)
        {
            return [];
        }
        // [[stream, [[id, [field, value, …]], …]]]
        var streams = (RedisResult[])result!;
        return streams.Length == 0 ? [] : ParseEntries(((RedisResult[])streams[0]!)[1]);
    }

    /// <summary>
    /// Claims up to <paramref name="count"/> entries that have been pending on any consumer for at least
    /// <paramref name="minIdle"/>, scanning from <paramref name="cursor"/>; returns the cursor to continue from ("0-0"
    /// once the scan is complete).
    /// </summary>
    public async Task<(string NextCursor, IReadOnlyList<StreamEntry> Entries)> ReclaimAsync(
        TimeSpan minIdle, string cursor, int count, CancellationToken cancellationToken)
    {
        var result = await redis.ExecuteAsync(
                "XAUTOCLAIM", streamName, DeliveryStreams.ConsumerGroup, consumerName, (long)minIdle.TotalMilliseconds, cursor, "COUNT", count)
            .WaitAsync(CommandTimeout, cancellationToken);
        // [next cursor, [[id, fields], …], [deleted ids] (Redis 7; it drops those from the pending list itself)]
        var parts = (RedisResult[])result!;
        return ((string)parts[0]!, ParseEntries(parts[1]));
    }

    public async Task AcknowledgeAsync(IReadOnlyCollection<string> entryIds, CancellationToken cancellationToken)
    {
        if (entryIds.Count == 0)
        {
            return;
        }
        var arguments = new object[2 + entryIds.Count];
        arguments[0] = streamName;
        arguments[1] = DeliveryStreams.ConsumerGroup;
        var index = 2;
        foreach (var id in entryIds)
        {
            arguments[index++] = id;
        }
        await redis.ExecuteAsync("XACK", arguments).WaitAsync(CommandTimeout, cancellationToken);
    }

    /// <summary>The group's lag and pending count, or null when the stream or the group does not exist.</summary>
    public async Task<ConsumerGroupState?> GetGroupStateAsync(CancellationToken cancellationToken)
    {
        RedisResult groups;
        try
        {
            groups = await redis.ExecuteAsync("XINFO", "GROUPS", streamName).WaitAsync(CommandTimeout, cancellationToken);
        }
        catch (RedisServerException exception) when (exception.Message.Contains("no such key", StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }
        foreach (var group in (RedisResult[])groups!)
        {
            var fields = ToDictionary((RedisResult[])group!);
            if ((string?)fields.GetValueOrDefault("name") != DeliveryStreams.ConsumerGroup)
            {
                continue;
            }
            // XINFO before XPENDING: an entry delivered in between is newer than the last-delivered id read here, so a
            // trim to this state never reaches it.
            var summary = (RedisResult[])(await redis.ExecuteAsync("XPENDING", streamName, DeliveryStreams.ConsumerGroup)
                .WaitAsync(CommandTimeout, cancellationToken))!;
            var pending = (long)summary[0];
            return new ConsumerGroupState(
                fields.TryGetValue("lag", out var lag) && !lag.IsNull ? (long)lag : null,
                pending,
                (string)fields["last-delivered-id"]!,
                pending > 0 ? (string?)summary[1] : null);
        }
        return null;
    }

    // Deleting a consumer drops its pending entries from the group, so the checks and the delete are one atomic step:
    // a worker that came back, or read again since XINFO answered, keeps its name and its entries.
    private const string RemoveIfEndedScript = """
        if redis.call('EXISTS', KEYS[2]) == 1 or #redis.call('XPENDING', KEYS[1], ARGV[1], '-', '+', 1, ARGV[2]) > 0 then
            return 0
        end
        redis.call('XGROUP', 'DELCONSUMER', KEYS[1], ARGV[1], ARGV[2])
        return 1
        """;

    /// <summary>Marks this worker as running (<see cref="RedisKeys.WorkerAlive"/>) for <paramref name="ttl"/>.</summary>
    public async Task ReportAliveAsync(TimeSpan ttl, CancellationToken cancellationToken) =>
        await redis.StringSetAsync(RedisKeys.WorkerAlive(consumerName), 1, ttl).WaitAsync(CommandTimeout, cancellationToken);

    /// <summary>
    /// Removes the group's consumers that belong to ended workers: no <see cref="RedisKeys.WorkerAlive"/> mark, nothing
    /// pending, and no read for at least <paramref name="idle"/>. Every worker process reads under a name of its own, so
    /// each restart, deployment or scale-in leaves one behind. An ended worker's entries are reclaimed first (after
    /// <see cref="WorkerOptions.ReclaimMinIdle"/>), so no entry leaves the pending list this way. Returns the names removed.
    /// </summary>
    public async Task<IReadOnlyList<string>> RemoveEndedConsumersAsync(TimeSpan idle, CancellationToken cancellationToken)
    {
        var consumers = (RedisResult[])(await redis.ExecuteAsync("XINFO", "CONSUMERS", streamName, DeliveryStreams.ConsumerGroup)
            .WaitAsync(CommandTimeout, cancellationToken))!;
        var removed = new List<string>();
        foreach (var consumer in consumers)
        {
            var fields = ToDictionary((RedisResult[])consumer!);
            var name = (string)fields["name"]!;
            if (name == consumerName || (long)fields["pending"] > 0 || (long)fields["idle"] < (long)idle.TotalMilliseconds)
            {
                continue;
            }
            var result = await redis.ScriptEvaluateAsync(
                    RemoveIfEndedScript, [streamName, RedisKeys.WorkerAlive(name)], [DeliveryStreams.ConsumerGroup, name])
                .WaitAsync(CommandTimeout, cancellationToken);
            if ((long)result == 1)
            {
                removed.Add(name);
            }
        }
        return removed;
    }

    /// <summary>
    /// Removes entries every consumer is done with: those older than both the oldest pending entry and the newest
    /// delivered one. Approximate (<c>~</c>), so Redis only drops whole internal nodes and the call stays cheap.
    /// </summary>
    public async Task TrimAcknowledgedAsync(ConsumerGroupState state, CancellationToken cancellationToken) =>
        await redis.ExecuteAsync("XTRIM", streamName, "MINID", "~", state.OldestPendingId ?? state.LastDeliveredId)
            .WaitAsync(CommandTimeout, cancellationToken);

    private static List<StreamEntry> ParseEntries(RedisResult entriesResult)
    {
        var entries = (RedisResult[])entriesResult!;
        var parsed = new List<StreamEntry>(entries.Length);
        foreach (var entry in entries)
        {
            if (entry.IsNull)
            {
                continue;
            }
            var parts = (RedisResult[])entry!;
            parsed.Add(new StreamEntry((string)parts[0]!, parts[1].IsNull ? null : (RedisValue[])parts[1]!));
        }
        return parsed;
    }

    private static Dictionary<string, RedisResult> ToDictionary(RedisResult[] pairs)
    {
        var fields = new Dictionary<string, RedisResult>(StringComparer.Ordinal);
        for (var index = 0; index + 1 < pairs.Length; index += 2)
        {
            fields[(string)pairs[index]!] = pairs[index + 1];
        }
        return fields;
    }
}
