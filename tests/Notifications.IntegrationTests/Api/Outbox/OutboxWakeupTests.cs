using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Notifications.Api.Outbox;
using Notifications.Api.Security;
using Notifications.Domain.Model;
using Notifications.IntegrationTests.Api.Security;
using Npgsql;
using static Notifications.IntegrationTests.Api.Outbox.OutboxTestData;

namespace Notifications.IntegrationTests.Api.Outbox;

/// <summary>
/// What the API's writers signal after their commit: this replica's relay wakes in-process, and one NOTIFY for many
/// signals wakes the other replicas' relays.
/// </summary>
[Collection(ApiOutboxCollection.Name)]
public sealed class OutboxWakeupTests(TestServers servers)
{
    /// <summary>How long an expected wake may take to be seen: generous, for a loaded machine.</summary>
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);

    private static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Signal_ABurstWhileANotifyIsHeldUp_WakesTheRelayAtOnce_AndFoldsIntoAtMostOneMoreNotify()
    {
        var database = await TestDatabase.CreateMigratedDatabaseAsync(servers.Postgres);
        // A pool of one connection, which the test holds: the wakeup's first NOTIFY waits for it, as a slow one would.
        var pooled = new NpgsqlConnectionStringBuilder(database) { MaxPoolSize = 1, Timeout = 60 };
        await using var dataSource = NpgsqlDataSource.Create(pooled.ConnectionString);
        // A clock that never moves: only a wake ends the relay's wait.
        var relayWake = new OutboxRelayWake(new FakeTimeProvider());
        using var wakeup = new OutboxWakeup(dataSource, relayWake, NullLogger<OutboxWakeup>.Instance);
        await using var listener = await OutboxSignalListener.StartAsync(database);
        await wakeup.StartAsync(Cancellation);
        try
        {
            await using (await dataSource.OpenConnectionAsync(Cancellation))
            {
                for (var signal = 0; signal < 1000; signal++)
                {
                    wakeup.Signal();
                }
                await relayWake.WaitAsync(TimeSpan.FromHours(1), Cancellation).WaitAsync(Deadline, Cancellation);
            }

            await listener.NextSignalAsync();
            // The NOTIFY the loop had taken before the burst ended (if it had) was held up; every other signal folded
            // into one more. Time to let that one arrive, so a missing fold would show here.
            await Task.Delay(TimeSpan.FromSeconds(1), Cancellation);
            Assert.InRange(await listener.CountSignalsBeforeMarkerAsync(), 0, 1);

            wakeup.Signal();
            await relayWake.WaitAsync(TimeSpan.FromHours(1), Cancellation).WaitAsync(Deadline, Cancellation);
            await listener.NextSignalAsync();
        }
        finally
        {
            await wakeup.StopAsync(CancellationToken.None);
        }
    }

    [Fact]
    public async Task Send_ReachesTheStreamAtOnce_ThoughTheRelayWouldNotPollForHalfAnHour_AndNotifiesTheOtherReplicas()
    {
        var database = await TestDatabase.CreateMigratedDatabaseAsync(servers.Postgres);
        // The API's NOTIFYs go to a database of their own, where the test listens as another replica would: so only
        // the in-process wake can reach this API's relay.
        var otherReplicasDatabase = await servers.Postgres.CreateDatabaseAsync();
        await using var otherReplicas = NpgsqlDataSource.Create(otherReplicasDatabase);
        await using var listener = await OutboxSignalListener.StartAsync(otherReplicasDatabase);
        await using var factory = new SecurityApiFactory(servers.Redis.ConnectionString, database,
            settings: new Dictionary<string, string> { [$"{OutboxRelayOptions.SectionName}:{nameof(OutboxRelayOptions.PollInterval)}"] = "00:30:00" });
        await using var api = factory.WithWebHostBuilder(host => host.ConfigureTestServices(services =>
            services.AddSingleton(provider => new OutboxWakeup(
                otherReplicas, provider.GetRequiredService<OutboxRelayWake>(), provider.GetRequiredService<ILogger<OutboxWakeup>>()))));
        var userId = await new ApiTestData(database, DateTimeOffset.UtcNow).SeedUserAsync();
        using var producer = api.CreateClient();
        var token = api.Services.GetRequiredService<AccessTokenIssuer>()
            .Issue($"producer-{Guid.NewGuid():N}", [], ["notifications:send"], TimeSpan.FromMinutes(5)).AccessToken;
        producer.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);

        // The first send may meet the relay's start-up pass; the second finds it waiting.
        foreach (var send in new[] { "first", "second" })
        {
            var response = await producer.PostAsJsonAsync("/api/notifications",
                new { userId, type = "comment.created", category = "social", title = $"The {send} send", body = "Body" }, Cancellation);
            var body = await ApiTestData.ReadJsonAsync(response, HttpStatusCode.Accepted);
            var jobIds = body.GetProperty("jobs").EnumerateArray().Select(job => job.GetProperty("id").GetGuid()).ToHashSet();
            Assert.Equal(2, jobIds.Count);

            await WaitUntilAsync(
                async () => (await AppendedJobIdsAsync()).IsSupersetOf(jobIds),
                $"the {send} send's jobs are in their streams");
            await listener.NextSignalAsync();
        }
    }

    private async Task<HashSet<Guid>> AppendedJobIdsAsync() =>
    [
        .. (await StreamEntriesAsync(servers.Redis.ConnectionString, DeliveryChannel.InApp)).Select(message => message.JobId),
        .. (await StreamEntriesAsync(servers.Redis.ConnectionString, DeliveryChannel.Email)).Select(message => message.JobId),
    ];
}
