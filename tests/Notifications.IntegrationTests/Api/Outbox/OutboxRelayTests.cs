using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Notifications.Api.Outbox;
using Notifications.Domain.Messaging;
using Notifications.Domain.Model;
using Notifications.Domain.Persistence;
using Npgsql;
using static Notifications.IntegrationTests.Api.Outbox.OutboxTestData;

namespace Notifications.IntegrationTests.Api.Outbox;

[Collection(ApiOutboxCollection.Name)]
public sealed class OutboxRelayTests(TestServers servers)
{
    /// <summary>Long enough that only a Postgres notification (or the first pass at start) can explain a dispatch.</summary>
    private static readonly TimeSpan NeverPoll = TimeSpan.FromMinutes(30);

    private static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Relay_AppendsEachRowToItsChannelsStreamWithTheMessageFields_AndMarksItDispatched()
    {
        var database = await TestDatabase.CreateMigratedDatabaseAsync(servers.Postgres);
        var jobs = await InsertJobsAsync(database, 2);
        var digest = await InsertDigestJobAsync(database);

        await using var relay = await OutboxRelayHost.StartAsync(database, servers.Redis.ConnectionString, NeverPoll);
        await WaitUntilAsync(async () => await UndispatchedCountAsync(database) == 0, "every row is dispatched");

        var inApp = await StreamEntriesAsync(servers.Redis.ConnectionString, DeliveryChannel.InApp);
        var email = await StreamEntriesAsync(servers.Redis.ConnectionString, DeliveryChannel.Email);
        Assert.Equal(jobs[0], Assert.Single(inApp, message => message.JobId == jobs[0].JobId));
        Assert.Equal(jobs[1], Assert.Single(email, message => message.JobId == jobs[1].JobId));
        Assert.Equal(digest, Assert.Single(email, message => message.JobId == digest.JobId));
        Assert.DoesNotContain(inApp, message => message.JobId == jobs[1].JobId || message.JobId == digest.JobId);
        Assert.All(await OutboxRowsAsync(database), row =>
        {
            Assert.NotNull(row.DispatchedAt);
            Assert.Equal(0, row.Attempts);
        });
    }

    [Fact]
    public async Task Relay_MalformedRow_StaysUndispatchedWithTheErrorRecordedAndItsNextAttemptPutOff_WhileTheRestOfItsBatchGoesOut()
    {
        var database = await TestDatabase.CreateMigratedDatabaseAsync(servers.Postgres);
        var jobs = await InsertJobsAsync(database, 3, DeliveryChannel.InApp);
        await using (var connection = new NpgsqlConnection(database))
        {
            await connection.OpenAsync(Cancellation);
            await using var command = new NpgsqlCommand("UPDATE outbox_messages SET payload = '[1, 2]' WHERE job_id = $1", connection)
            {
                Parameters = { new() { Value = jobs[1].JobId } },
            };
            Assert.Equal(1, await command.ExecuteNonQueryAsync(Cancellation));
        }

        // Whole microseconds, as Postgres stores them.
        var started = DateTimeOffset.UnixEpoch.AddMicroseconds((long)(DateTimeOffset.UtcNow - DateTimeOffset.UnixEpoch).TotalMicroseconds);
        await using var relay = await OutboxRelayHost.StartAsync(database, servers.Redis.ConnectionString, NeverPoll);
        await WaitUntilAsync(async () => (await OutboxRowsAsync(database)).Any(row => row.Attempts > 0), "the relay has tried the malformed row");

        var rows = (await OutboxRowsAsync(database)).ToDictionary(row => row.JobId);
        Assert.Null(rows[jobs[1].JobId].DispatchedAt);
        Assert.True(rows[jobs[1].JobId].Attempts >= 1);
        Assert.Contains("not a JSON object", rows[jobs[1].JobId].LastError);
        Assert.True(rows[jobs[1].JobId].AvailableAt >= started.AddSeconds(1), "the next attempt is put off by at least a second");
        Assert.NotNull(rows[jobs[0].JobId].DispatchedAt);
        Assert.NotNull(rows[jobs[2].JobId].DispatchedAt);
        var appended = (await StreamEntriesAsync(servers.Redis.ConnectionString, DeliveryChannel.InApp)).Select(message => message.JobId).ToList();
        Assert.Contains(jobs[0].JobId, appended);
        Assert.Contains(jobs[2].JobId, appended);
        Assert.DoesNotContain(jobs[1].JobId, appended);
    }

    [Fact]
    public async Task Relay_WaitingForWork_IsWokenByAnotherProcesssNotification()
    {
        var database = await TestDatabase.CreateMigratedDatabaseAsync(servers.Postgres);
        await using var relay = await OutboxRelayHost.StartAsync(database, servers.Redis.ConnectionString, NeverPoll);
        await using var otherProcess = NpgsqlDataSource.Create(database);
        await WaitForListeningBackendAsync(otherProcess, except: null);
        // Once this row is out, the relay is waiting.
        await InsertJobsAsync(database, 1);
        await OutboxSignal.RaiseAsync(otherProcess, Cancellation);
        await WaitUntilAsync(async () => await UndispatchedCountAsync(database) == 0, "the first row is dispatched");

        var later = await InsertJobsAsync(database, 1, DeliveryChannel.Email);
        await OutboxSignal.RaiseAsync(otherProcess, Cancellation);

        await WaitUntilAsync(async () => await UndispatchedCountAsync(database) == 0, "the row signalled while waiting is dispatched");
        var email = await StreamEntriesAsync(servers.Redis.ConnectionString, DeliveryChannel.Email);
        Assert.Equal(later[0], Assert.Single(email, message => message.JobId == later[0].JobId));
    }

    [Fact]
    public async Task Relay_WaitingForWork_IsWokenInProcess_WithoutAPostgresNotification()
    {
        var database = await TestDatabase.CreateMigratedDatabaseAsync(servers.Postgres);
        await using var relay = await OutboxRelayHost.StartAsync(database, servers.Redis.ConnectionString, NeverPoll);
        var relayWake = relay.Services.GetRequiredService<OutboxRelayWake>();
        await using (var dataSource = NpgsqlDataSource.Create(database))
        {
            // Once it listens it has made its start-up passes: after the one that sends this row out, it waits.
            await WaitForListeningBackendAsync(dataSource, except: null);
        }
        await InsertJobsAsync(database, 1);
        relayWake.Set();
        await WaitUntilAsync(async () => await UndispatchedCountAsync(database) == 0, "the first row is dispatched");

        var later = await InsertJobsAsync(database, 1, DeliveryChannel.Email);
        relayWake.Set();

        await WaitUntilAsync(async () => await UndispatchedCountAsync(database) == 0, "the row is dispatched once the relay is woken");
        var email = await StreamEntriesAsync(servers.Redis.ConnectionString, DeliveryChannel.Email);
        Assert.Equal(later[0], Assert.Single(email, message => message.JobId == later[0].JobId));
    }

    [Fact]
    public async Task Relay_ListeningConnectionKilled_ListensAgain_AndIsWokenByTheNextNotification()
    {
        var database = await TestDatabase.CreateMigratedDatabaseAsync(servers.Postgres);
        await using var relay = await OutboxRelayHost.StartAsync(database, servers.Redis.ConnectionString, NeverPoll);
        await using var admin = NpgsqlDataSource.Create(database);
        var killed = await WaitForListeningBackendAsync(admin, except: null);

        await using (var terminate = admin.CreateCommand($"SELECT pg_terminate_backend({killed})"))
        {
            await terminate.ExecuteNonQueryAsync(Cancellation);
        }
        await WaitForListeningBackendAsync(admin, except: killed);
        // Its first pass after listening again has run once this row, written after the new LISTEN, is out.
        await InsertJobsAsync(database, 1);
        await OutboxSignal.RaiseAsync(admin, Cancellation);
        await WaitUntilAsync(async () => await UndispatchedCountAsync(database) == 0, "the first row after the reconnect is dispatched");

        var later = await InsertJobsAsync(database, 1, DeliveryChannel.Email);
        await OutboxSignal.RaiseAsync(admin, Cancellation);

        await WaitUntilAsync(async () => await UndispatchedCountAsync(database) == 0, "the row signalled after the reconnect is dispatched");
        var email = await StreamEntriesAsync(servers.Redis.ConnectionString, DeliveryChannel.Email);
        Assert.Equal(later[0], Assert.Single(email, message => message.JobId == later[0].JobId));
    }

    [Fact]
    public async Task Relay_RowDueLater_StaysUndispatchedUntilItsTimeComes()
    {
        var database = await TestDatabase.CreateMigratedDatabaseAsync(servers.Postgres);
        var later = await InsertJobsAsync(database, 1, DeliveryChannel.Email, availableAt: DateTimeOffset.UtcNow.AddHours(1));
        var now = await InsertJobsAsync(database, 1, DeliveryChannel.Email);
        await using var relay = await OutboxRelayHost.StartAsync(database, servers.Redis.ConnectionString, TimeSpan.FromMilliseconds(50));

        await WaitUntilAsync(async () => await UndispatchedCountAsync(database) == 1, "the row due now is dispatched");
        // Several polls later the row due in an hour is still waiting.
        await Task.Delay(TimeSpan.FromMilliseconds(300), TestContext.Current.CancellationToken);
        Assert.Equal(1, await UndispatchedCountAsync(database));
        var email = await StreamEntriesAsync(servers.Redis.ConnectionString, DeliveryChannel.Email);
        Assert.Contains(email, message => message.JobId == now[0].JobId);
        Assert.DoesNotContain(email, message => message.JobId == later[0].JobId);

        await using (var db = TestDatabase.CreateContext(database))
        {
            await db.Database.ExecuteSqlAsync($"UPDATE outbox_messages SET available_at = now() - interval '1 second'", TestContext.Current.CancellationToken);
        }

        await WaitUntilAsync(async () => await UndispatchedCountAsync(database) == 0, "the row is dispatched once due");
        email = await StreamEntriesAsync(servers.Redis.ConnectionString, DeliveryChannel.Email);
        Assert.Equal(later[0], Assert.Single(email, message => message.JobId == later[0].JobId));
    }

    /// <summary>Waits until a backend of the relay has LISTENed on the channel (other than <paramref name="except"/>); returns its pid.</summary>
    private static async Task<int> WaitForListeningBackendAsync(NpgsqlDataSource dataSource, int? except)
    {
        int? pid = null;
        await WaitUntilAsync(
            async () =>
            {
                await using var command = dataSource.CreateCommand(
                    "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND query = $1 AND pid <> $2");
                command.Parameters.AddWithValue($"LISTEN {OutboxSignal.ChannelName}");
                command.Parameters.AddWithValue(except ?? 0);
                pid = (int?)await command.ExecuteScalarAsync(Cancellation);
                return pid is not null;
            },
            "the relay listens");
        return pid!.Value;
    }

    [Fact]
    public async Task TwoRelaysRacingOver500Rows_AppendEachJobExactlyOnce()
    {
        const int jobCount = 500;
        var database = await TestDatabase.CreateMigratedDatabaseAsync(servers.Postgres);
        await using var first = await OutboxRelayHost.StartAsync(database, servers.Redis.ConnectionString, TimeSpan.FromMilliseconds(50), batchSize: 7);
        await using var second = await OutboxRelayHost.StartAsync(database, servers.Redis.ConnectionString, TimeSpan.FromMilliseconds(50), batchSize: 7);

        var expected = new List<DeliveryMessage>();
        for (var transaction = 0; transaction < 10; transaction++)
        {
            expected.AddRange(await InsertJobsAsync(database, jobCount / 10));
        }
        await WaitUntilAsync(async () => await UndispatchedCountAsync(database) == 0, "all 500 rows are dispatched");

        var ours = expected.Select(message => message.JobId).ToHashSet();
        List<DeliveryMessage> appended =
        [
            .. await StreamEntriesAsync(servers.Redis.ConnectionString, DeliveryChannel.InApp),
            .. await StreamEntriesAsync(servers.Redis.ConnectionString, DeliveryChannel.Email),
        ];
        var appendedOfOurs = appended.Where(message => ours.Contains(message.JobId)).ToList();
        Assert.Equal(jobCount, appendedOfOurs.Count);
        Assert.Equal(expected.OrderBy(message => message.JobId), appendedOfOurs.OrderBy(message => message.JobId));
    }

    [Fact]
    public async Task RedisStoppedThenStarted_NothingIsDispatchedWhileDown_AndEveryRowGoesOutAfterwards()
    {
        var database = await TestDatabase.CreateMigratedDatabaseAsync(servers.Postgres);
        await using var ownRedis = new RedisServerFixture();
        await ownRedis.InitializeAsync();
        await using var relay = await OutboxRelayHost.StartAsync(database, ownRedis.ConnectionString, TimeSpan.FromMilliseconds(100));
        await InsertJobsAsync(database, 1);
        await WaitUntilAsync(async () => await UndispatchedCountAsync(database) == 0, "the row written while Redis is up is dispatched");

        await ownRedis.StopAsync();
        var whileDown = await InsertJobsAsync(database, 20);
        var downIds = whileDown.Select(message => message.JobId).ToHashSet();
        await WaitUntilAsync(
            async () => (await OutboxRowsAsync(database)).Where(row => downIds.Contains(row.JobId)).All(row => row.Attempts > 0),
            "the relay has tried every row written while Redis is down");

        var rowsWhileDown = (await OutboxRowsAsync(database)).Where(row => downIds.Contains(row.JobId)).ToList();
        Assert.All(rowsWhileDown, row =>
        {
            Assert.Null(row.DispatchedAt);
            Assert.NotNull(row.LastError);
        });

        await ownRedis.StartAsync();
        await WaitUntilAsync(async () => await UndispatchedCountAsync(database) == 0, "every row is dispatched after Redis returns");

        List<DeliveryMessage> appended =
        [
            .. await StreamEntriesAsync(ownRedis.ConnectionString, DeliveryChannel.InApp),
            .. await StreamEntriesAsync(ownRedis.ConnectionString, DeliveryChannel.Email),
        ];
        Assert.Equal(
            whileDown.OrderBy(message => message.JobId),
            appended.Where(message => downIds.Contains(message.JobId)).OrderBy(message => message.JobId));
    }
}
