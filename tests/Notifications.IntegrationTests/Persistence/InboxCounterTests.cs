using Notifications.Domain.Persistence.Migrations;
using Npgsql;
using static Notifications.Testing.TestDatabase;

namespace Notifications.IntegrationTests.Persistence;

/// <summary>
/// The per-user unread counters (<c>inbox_counters</c>) the triggers of migration 0007 keep: after every kind of write
/// to <c>notifications</c> they equal a count of the unread, unarchived rows.
/// </summary>
[Collection(PersistencePostgresCollection.Name)]
public sealed class InboxCounterTests(PostgresServerFixture postgres)
{
    private static CancellationToken CancellationToken => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Insert_CountsOnlyUnreadInboxRows_PerUser()
    {
        await using var dataSource = NpgsqlDataSource.Create(await CreateMigratedDatabaseAsync(postgres));
        await CreateUsersAsync(dataSource, "ada", "bob", "cy");

        await ExecuteAsync(dataSource, """
            INSERT INTO notifications (id, user_id, type, category, priority, title, body, data, created_at, read_at, archived_at)
            SELECT gen_random_uuid(), user_id, 't', 'c', 'normal', 'title', 'body', '{}', now(), read_at, archived_at
            FROM (VALUES ('ada', NULL::timestamptz, NULL::timestamptz), ('ada', NULL, NULL), ('ada', now(), NULL),
                         ('bob', NULL, now()), ('bob', NULL, NULL), ('cy', now(), NULL)) AS rows (user_id, read_at, archived_at)
            """);

        Assert.Equal(new Dictionary<string, int> { ["ada"] = 2, ["bob"] = 1, ["cy"] = 0 }, await CountersAsync(dataSource, "ada", "bob", "cy"));
        await AssertCountersMatchTheRowsAsync(dataSource);
    }

    [Fact]
    public async Task Updates_ReadUnreadArchiveRestoreAndMarkAllRead_KeepTheCounterExact()
    {
        await using var dataSource = NpgsqlDataSource.Create(await CreateMigratedDatabaseAsync(postgres));
        await CreateUsersAsync(dataSource, "ada", "bob");
        await InsertUnreadAsync(dataSource, "ada", 5);
        await InsertUnreadAsync(dataSource, "bob", 3);
        var first = await ScalarAsync<Guid>(dataSource, "SELECT id FROM notifications WHERE user_id = 'ada' ORDER BY id LIMIT 1");

        await ExecuteAsync(dataSource, $"UPDATE notifications SET read_at = now() WHERE id = '{first}'");
        Assert.Equal(4, (await CountersAsync(dataSource, "ada"))["ada"]);
        await ExecuteAsync(dataSource, $"UPDATE notifications SET read_at = now() WHERE id = '{first}'");
        Assert.Equal(4, (await CountersAsync(dataSource, "ada"))["ada"]);
        await ExecuteAsync(dataSource, $"UPDATE notifications SET read_at = NULL WHERE id = '{first}'");
        Assert.Equal(5, (await CountersAsync(dataSource, "ada"))["ada"]);
        await ExecuteAsync(dataSource, $"UPDATE notifications SET archived_at = now() WHERE id = '{first}'");
        Assert.Equal(4, (await CountersAsync(dataSource, "ada"))["ada"]);
        await ExecuteAsync(dataSource, $"UPDATE notifications SET seen_at = now() WHERE id <> '{first}'");
        Assert.Equal(4, (await CountersAsync(dataSource, "ada"))["ada"]);
        await ExecuteAsync(dataSource, $"UPDATE notifications SET archived_at = NULL WHERE id = '{first}'");
        Assert.Equal(5, (await CountersAsync(dataSource, "ada"))["ada"]);

        await ExecuteAsync(dataSource, "UPDATE notifications SET read_at = now() WHERE user_id = 'ada' AND read_at IS NULL");

        Assert.Equal(new Dictionary<string, int> { ["ada"] = 0, ["bob"] = 3 }, await CountersAsync(dataSource, "ada", "bob"));
        await AssertCountersMatchTheRowsAsync(dataSource);
    }

    [Fact]
    public async Task DeletingAUser_RemovesTheirCounterAndLeavesOthers()
    {
        await using var dataSource = NpgsqlDataSource.Create(await CreateMigratedDatabaseAsync(postgres));
        await CreateUsersAsync(dataSource, "ada", "bob");
        await InsertUnreadAsync(dataSource, "ada", 4);
        await InsertUnreadAsync(dataSource, "bob", 2);

        await ExecuteAsync(dataSource, "DELETE FROM users WHERE id = 'ada'");

        Assert.Equal(0L, await ScalarAsync<long>(dataSource, "SELECT count(*) FROM inbox_counters WHERE user_id = 'ada'"));
        Assert.Equal(2, (await CountersAsync(dataSource, "bob"))["bob"]);
    }

    [Fact]
    public async Task ConcurrentWritersOnOverlappingUsers_NeitherDeadlockNorLoseACount()
    {
        await using var dataSource = NpgsqlDataSource.Create(await CreateMigratedDatabaseAsync(postgres));
        var users = Enumerable.Range(0, 12).Select(index => $"user-{index}").ToArray();
        await CreateUsersAsync(dataSource, users);

        // Each writer inserts for a different, shuffled set of users in one statement, and marks one read in another
        // transaction: the orders in which they reach the counters differ from writer to writer.
        var markedRead = await Task.WhenAll(Enumerable.Range(0, 16).Select(writer => Task.Run(async () =>
        {
            var random = new Random(writer);
            var read = 0;
            for (var round = 0; round < 10; round++)
            {
                var recipients = users.OrderBy(_ => random.Next()).Take(8).ToArray();
                await using var insert = dataSource.CreateCommand("""
                    INSERT INTO notifications (id, user_id, type, category, priority, title, body, data, created_at)
                    SELECT gen_random_uuid(), user_id, 't', 'c', 'normal', 'title', 'body', '{}', now() FROM unnest($1::text[]) AS u (user_id)
                    """);
                insert.Parameters.Add(new NpgsqlParameter { Value = recipients });
                await insert.ExecuteNonQueryAsync(CancellationToken);
                await using var markRead = dataSource.CreateCommand("""
                    UPDATE notifications SET read_at = now()
                    WHERE read_at IS NULL AND id IN (SELECT id FROM notifications WHERE user_id = $1 AND read_at IS NULL LIMIT 1)
                    """);
                markRead.Parameters.Add(new NpgsqlParameter { Value = recipients[0] });
                read += await markRead.ExecuteNonQueryAsync(CancellationToken);
            }
            return read;
        }, CancellationToken)));

        Assert.Equal(16 * 10 * 8 - markedRead.Sum(), (await CountersAsync(dataSource, users)).Values.Sum());
        await AssertCountersMatchTheRowsAsync(dataSource);
    }

    [Fact]
    public async Task Migration_CountsTheNotificationsThatExistedBeforeIt()
    {
        await using var dataSource = NpgsqlDataSource.Create(await postgres.CreateDatabaseAsync());
        await CreateMigrator(dataSource, EmbeddedMigrations.All.Where(script => script.Version < 7).ToList()).MigrateAsync(CancellationToken);
        await CreateUsersAsync(dataSource, "ada", "bob");
        await InsertUnreadAsync(dataSource, "ada", 3);
        await InsertUnreadAsync(dataSource, "bob", 2);
        await ExecuteAsync(dataSource, "UPDATE notifications SET read_at = now() WHERE id IN (SELECT id FROM notifications WHERE user_id = 'bob' LIMIT 1)");

        await CreateMigrator(dataSource).MigrateAsync(CancellationToken);

        Assert.Equal(new Dictionary<string, int> { ["ada"] = 3, ["bob"] = 1 }, await CountersAsync(dataSource, "ada", "bob"));
        await InsertUnreadAsync(dataSource, "bob", 1);
        Assert.Equal(2, (await CountersAsync(dataSource, "bob"))["bob"]);
    }

    private static async Task CreateUsersAsync(NpgsqlDataSource dataSource, params string[] userIds)
    {
        await using var command = dataSource.CreateCommand("""
            INSERT INTO users (id, time_zone, email_enabled, created_at, updated_at)
            SELECT id, 'UTC', true, now(), now() FROM unnest($1::text[]) AS u (id)
            """);
        command.Parameters.Add(new NpgsqlParameter { Value = userIds });
        await command.ExecuteNonQueryAsync(CancellationToken);
    }

    private static Task InsertUnreadAsync(NpgsqlDataSource dataSource, string userId, int count) =>
        ExecuteAsync(dataSource, $"""
            INSERT INTO notifications (id, user_id, type, category, priority, title, body, data, created_at)
            SELECT gen_random_uuid(), '{userId}', 't', 'c', 'normal', 'title', 'body', jsonb_build_object(), now() FROM generate_series(1, {count})
            """);

    /// <summary>The counters of <paramref name="userIds"/>; a user without a row counts 0.</summary>
    private static async Task<Dictionary<string, int>> CountersAsync(NpgsqlDataSource dataSource, params string[] userIds)
    {
        await using var command = dataSource.CreateCommand("""
            SELECT u.id, COALESCE(c.unread, 0) FROM unnest($1::text[]) AS u (id) LEFT JOIN inbox_counters c ON c.user_id = u.id
            """);
        command.Parameters.Add(new NpgsqlParameter { Value = userIds });
        await using var reader = await command.ExecuteReaderAsync(CancellationToken);
        var counters = new Dictionary<string, int>();
        while (await reader.ReadAsync(CancellationToken))
        {
            counters[reader.GetString(0)] = reader.GetInt32(1);
        }
        return counters;
    }

    private static async Task AssertCountersMatchTheRowsAsync(NpgsqlDataSource dataSource) =>
        Assert.Equal(0L, await ScalarAsync<long>(dataSource, """
            SELECT count(*) FROM users u
            LEFT JOIN inbox_counters c ON c.user_id = u.id
            WHERE COALESCE(c.unread, 0) <> (SELECT count(*) FROM notifications n
                                            WHERE n.user_id = u.id AND n.read_at IS NULL AND n.archived_at IS NULL)
            """));
}
