using Notifications.EmailWorker.Consuming;
using Npgsql;
using static Notifications.Testing.TestDatabase;

namespace Notifications.EmailWorker.Tests.Consuming;

/// <summary>
/// The claim and outcome statements reach their jobs by primary key in the generic plans Npgsql's prepared statements
/// end up with. Through a status index they would walk the dead entries every job leaves behind under load.
/// </summary>
[Collection(WorkerTestCollection.Name)]
public sealed class JobStorePlanTests(TestServers servers)
{
    private static CancellationToken CancellationToken => TestContext.Current.CancellationToken;

    [Fact]
    public async Task ClaimAndOutcome_FindTheirJobsByPrimaryKey_WhereWaitingJobsAreFewAmongMany()
    {
        await using var dataSource = NpgsqlDataSource.Create(await CreateMigratedDatabaseAsync(servers.Postgres));
        // Statistics as on a busy system: many finished jobs, few waiting or in flight, so a status index looks cheap.
        await ExecuteAsync(dataSource, """
            INSERT INTO users (id, time_zone, email_enabled, created_at, updated_at) VALUES ('plan-user', 'UTC', true, now(), now());
            INSERT INTO notifications (id, user_id, type, category, priority, title, body, data, created_at)
            SELECT gen_random_uuid(), 'plan-user', 't', 'c', 'normal', 'title', 'body', '{}', now() FROM generate_series(1, 20000);
            INSERT INTO delivery_jobs (id, kind, notification_id, user_id, channel, status, priority, attempts, recovery_count,
                                       scheduled_for, created_at, updated_at)
            SELECT gen_random_uuid(), 'notification', id, 'plan-user', 'in_app',
                   CASE WHEN row_number() OVER () <= 5 THEN 'queued' WHEN row_number() OVER () <= 10 THEN 'processing' ELSE 'sent' END,
                   'normal', 0, 0, now(), now(), now()
            FROM notifications;
            ANALYZE;
            """);

        // Explained, not run: any ids do.
        var ids = $"'{{{string.Join(',', Enumerable.Range(0, 8).Select(_ => Guid.CreateVersion7()))}}}'::uuid[]";
        var claimPlan = await GenericPlanAsync(dataSource, "claim", JobStore.ClaimSql, $"{ids}, now(), now() - interval '10 minutes'");
        var outcomePlan = await GenericPlanAsync(dataSource, "outcome", JobStore.OutcomeSql,
            $"{ids}, array_fill(now(), array[8]), array_fill('sent'::text, array[8]), " +
            "array_fill(1, array[8]), array_fill(NULL::timestamptz, array[8]), array_fill(now(), array[8]), " +
            "array_fill(NULL::text, array[8]), array_fill(NULL::text, array[8]), now(), " +
            "'{}'::uuid[], '{}'::uuid[], '{}'::int[], '{}'::text[], '{}'::text[], '{}'::text[], '{}'::int[], '{}'::text[], '{}'::bigint[], '{}'::text[], " +
            "'{}'::uuid[], '{}'::text[], '{}'::text[], '{}'::text[], '{}'::text[], '{}'::timestamptz[]");

        Assert.Contains("delivery_jobs_pkey", claimPlan);
        Assert.DoesNotContain("ix_delivery_jobs_status", claimPlan);
        Assert.Contains("delivery_jobs_pkey", outcomePlan);
        Assert.DoesNotContain("ix_delivery_jobs_status", outcomePlan);
    }

    /// <summary>The generic plan of <paramref name="sql"/>, explained (not run) with <paramref name="arguments"/>.</summary>
    private static async Task<string> GenericPlanAsync(NpgsqlDataSource dataSource, string name, string sql, string arguments)
    {
        await using var connection = await dataSource.OpenConnectionAsync(CancellationToken);
        await using (var prepare = new NpgsqlCommand($"SET plan_cache_mode = force_generic_plan; PREPARE {name} AS {sql}", connection))
        {
            await prepare.ExecuteNonQueryAsync(CancellationToken);
        }
        await using var explain = new NpgsqlCommand($"EXPLAIN EXECUTE {name}({arguments})", connection);
        await using var reader = await explain.ExecuteReaderAsync(CancellationToken);
        var plan = new List<string>();
        while (await reader.ReadAsync(CancellationToken))
        {
            plan.Add(reader.GetString(0));
        }
        return string.Join('\n', plan);
    }
}
