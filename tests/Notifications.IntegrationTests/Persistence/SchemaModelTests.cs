using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata;
using Notifications.Domain.Model;
using Notifications.Domain.Persistence;
using Npgsql;
using static Notifications.Testing.TestDatabase;

namespace Notifications.IntegrationTests.Persistence;

/// <summary>
/// The EF model and the migrated SQL schema describe the same tables, columns, indexes and enum values. The migrator's
/// <c>schema_versions</c> and Quartz's <c>qrtz_*</c> tables are not part of the model.
/// </summary>
[Collection(PersistencePostgresCollection.Name)]
public sealed partial class SchemaModelTests(PostgresServerFixture postgres)
{
    private static CancellationToken CancellationToken => TestContext.Current.CancellationToken;

    [Fact]
    public async Task EveryEntitySet_CanBeQueriedOnTheMigratedSchema()
    {
        await using var context = CreateContext(await CreateMigratedDatabaseAsync(postgres));

        int[] counts =
        [
            (await context.Users.ToListAsync(CancellationToken)).Count,
            (await context.Notifications.ToListAsync(CancellationToken)).Count,
            (await context.InboxCounters.ToListAsync(CancellationToken)).Count,
            (await context.DeliveryJobs.ToListAsync(CancellationToken)).Count,
            (await context.DeliveryLogs.ToListAsync(CancellationToken)).Count,
            (await context.OutboxMessages.ToListAsync(CancellationToken)).Count,
            (await context.NotificationPreferences.ToListAsync(CancellationToken)).Count,
            (await context.DigestSchedules.ToListAsync(CancellationToken)).Count,
            (await context.EmailUsageSnapshots.ToListAsync(CancellationToken)).Count,
            (await context.DeadLetters.ToListAsync(CancellationToken)).Count,
            (await context.CronJobExecutions.ToListAsync(CancellationToken)).Count,
            (await context.IdempotencyKeys.ToListAsync(CancellationToken)).Count,
            (await context.DevMailboxMessages.ToListAsync(CancellationToken)).Count,
        ];

        Assert.Equal(context.Model.GetEntityTypes().Count(), counts.Length);
        Assert.All(counts, count => Assert.Equal(0, count));
    }

    [Fact]
    public async Task EfModelColumns_MatchTheMigratedColumnsExactly()
    {
        var connectionString = await CreateMigratedDatabaseAsync(postgres);
        await using var context = CreateContext(connectionString);
        await using var dataSource = NpgsqlDataSource.Create(connectionString);

        var expected = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var entityType in context.Model.GetEntityTypes())
        {
            var table = StoreObjectIdentifier.Table(entityType.GetTableName()!, entityType.GetSchema());
            foreach (var property in entityType.GetProperties())
            {
                expected.Add($"{table.Name}.{property.GetColumnName(table)} {property.GetColumnType()} {(property.IsNullable ? "null" : "not null")}");
            }
        }

        var actual = new SortedSet<string>(StringComparer.Ordinal);
        await using var command = dataSource.CreateCommand("""
            SELECT c.relname, a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull
            FROM pg_attribute a
            JOIN pg_class c ON c.oid = a.attrelid
            JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = 'public' AND c.relkind = 'r' AND c.relname <> 'schema_versions' AND c.relname NOT LIKE 'qrtz\_%'
              AND a.attnum > 0 AND NOT a.attisdropped
            """);
        await using (var reader = await command.ExecuteReaderAsync(CancellationToken))
        {
            while (await reader.ReadAsync(CancellationToken))
            {
                actual.Add($"{reader.GetString(0)}.{reader.GetString(1)} {reader.GetString(2)} {(reader.GetBoolean(3) ? "not null" : "null")}");
            }
        }

        Assert.Empty(expected.Except(actual));
        Assert.Empty(actual.Except(expected));
    }

    [Fact]
    public async Task EfModelIndexesAndKeys_ExistInTheMigratedSchema()
    {
        var connectionString = await CreateMigratedDatabaseAsync(postgres);
        await using var context = CreateContext(connectionString);
        await using var dataSource = NpgsqlDataSource.Create(connectionString);

        var expected = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var entityType in context.Model.GetEntityTypes())
        {
            var table = entityType.GetTableName()!;
            expected.Add($"{table}.{entityType.FindPrimaryKey()!.GetName()} unique");
            foreach (var index in entityType.GetIndexes())
            {
                expected.Add($"{table}.{index.GetDatabaseName()} {(index.IsUnique ? "unique" : "non-unique")}");
            }
        }

        var actual = new SortedSet<string>(StringComparer.Ordinal);
        await using var command = dataSource.CreateCommand("""
            SELECT t.relname, i.relname, x.indisunique
            FROM pg_index x
            JOIN pg_class i ON i.oid = x.indexrelid
            JOIN pg_class t ON t.oid = x.indrelid
            JOIN pg_namespace n ON n.oid = t.relnamespace
            WHERE n.nspname = 'public' AND t.relname <> 'schema_versions' AND t.relname NOT LIKE 'qrtz\_%'
            """);
        await using (var reader = await command.ExecuteReaderAsync(CancellationToken))
        {
            while (await reader.ReadAsync(CancellationToken))
            {
                actual.Add($"{reader.GetString(0)}.{reader.GetString(1)} {(reader.GetBoolean(2) ? "unique" : "non-unique")}");
            }
        }

        Assert.Empty(expected.Except(actual));
        Assert.Empty(actual.Except(expected));
    }

    [Fact]
    public async Task EnumColumns_CheckConstraintsAllowExactlyTheEnumsStoredNames()
    {
        var connectionString = await CreateMigratedDatabaseAsync(postgres);
        await using var context = CreateContext(connectionString);
        await using var dataSource = NpgsqlDataSource.Create(connectionString);
        var constraints = new Dictionary<string, string>(StringComparer.Ordinal);
        await using (var command = dataSource.CreateCommand(
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint WHERE contype = 'c' AND connamespace = 'public'::regnamespace"))
        await using (var reader = await command.ExecuteReaderAsync(CancellationToken))
        {
            while (await reader.ReadAsync(CancellationToken))
            {
                constraints[reader.GetString(0)] = reader.GetString(1);
            }
        }

        var enumProperties = context.Model.GetEntityTypes()
            .SelectMany(entityType => entityType.GetProperties())
            .Where(property => property.ClrType.IsEnum)
            .ToList();
        Assert.NotEmpty(enumProperties);
        foreach (var property in enumProperties)
        {
            var table = property.DeclaringType.GetTableName()!;
            var column = property.GetColumnName();
            var constraintName = $"ck_{table}_{column}";
            Assert.True(constraints.TryGetValue(constraintName, out var definition), $"{table}.{column} has no CHECK constraint {constraintName}.");
            var allowed = QuotedLiteral().Matches(definition).Select(match => match.Groups[1].Value).Order(StringComparer.Ordinal);
            var storedNames = Enum.GetValues(property.ClrType).Cast<object>()
                .Select(value => (string)property.GetTypeMapping().Converter!.ConvertToProvider(value)!)
                .Order(StringComparer.Ordinal);
            Assert.Equal(storedNames, allowed);
        }
    }

    [Fact]
    public async Task EveryEntity_RoundTripsThroughEfCore()
    {
        var connectionString = await CreateMigratedDatabaseAsync(postgres);
        var now = new DateTimeOffset(2026, 3, 29, 1, 30, 0, TimeSpan.Zero);
        var user = new User { Id = "user-1", Email = "ada@example.com", TimeZone = "Europe/Paris", CreatedAt = now, UpdatedAt = now };
        var notification = new Notification
        {
            UserId = user.Id, Type = "new_testimonial", Category = "testimonials", Priority = NotificationPriority.High,
            Title = "New testimonial", Body = "Someone wrote one.", Data = JsonDocument.Parse("""{"testimonialId":42}"""), CreatedAt = now,
        };
        var emailJob = new DeliveryJob
        {
            NotificationId = notification.Id, UserId = user.Id, Channel = DeliveryChannel.Email,
            Status = DeliveryJobStatus.DigestPending, ScheduledFor = now, CreatedAt = now, UpdatedAt = now,
        };
        var digestJob = new DeliveryJob
        {
            Kind = DeliveryJobKind.Digest, DigestMaxItems = 20, UserId = user.Id, Channel = DeliveryChannel.Email, Status = DeliveryJobStatus.Queued,
            DigestPeriodKey = "daily:2026-03-29", ScheduledFor = now, CreatedAt = now, UpdatedAt = now,
        };
        var schedule = new DigestSchedule
        {
            UserId = user.Id, Frequency = DigestFrequency.Monthly, DeliveryTime = new TimeOnly(9, 0), DeliveryDay = 31,
            TimeZone = "America/New_York", MaxItems = 10, IncludedCategories = ["testimonials", "security"],
            NextDueAt = now.AddDays(2), CreatedAt = now, UpdatedAt = now,
        };

        await using (var context = CreateContext(connectionString))
        {
            context.Users.Add(user);
            context.Notifications.Add(notification);
            context.DeliveryJobs.AddRange(emailJob, digestJob);
            await context.SaveChangesAsync(CancellationToken);

            // Folding the pending email into the digest: the shape the scheduler writes.
            emailJob.Status = DeliveryJobStatus.Digested;
            emailJob.DigestJobId = digestJob.Id;
            context.DeliveryLogs.Add(new DeliveryLog
            {
                JobId = digestJob.Id, Attempt = 1, Channel = DeliveryChannel.Email, Provider = "resend",
                Outcome = DeliveryOutcome.TransientFailure, HttpStatusCode = 503, DurationMs = 120, CreatedAt = now,
            });
            context.OutboxMessages.Add(new OutboxMessage
            {
                JobId = digestJob.Id, Channel = DeliveryChannel.Email, Payload = JsonDocument.Parse("""{"jobId":"x"}"""),
                TraceParent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", CreatedAt = now, AvailableAt = now,
            });
            context.NotificationPreferences.Add(new NotificationPreference
            {
                UserId = user.Id, Scope = PreferenceScope.Category, ScopeKey = "testimonials", Channel = DeliveryChannel.Email,
                DeliveryMode = DeliveryMode.Digest, UpdatedAt = now,
            });
            context.DigestSchedules.Add(schedule);
            context.EmailUsageSnapshots.Add(new EmailUsageSnapshot { Day = new DateOnly(2026, 3, 28), SentCount = 97, SnapshotAt = now });
            context.DeadLetters.Add(new DeadLetter
            {
                JobId = digestJob.Id, Channel = DeliveryChannel.Email, ErrorType = DeliveryErrorType.Permanent, HttpStatusCode = 422,
                AttemptHistory = JsonDocument.Parse("""[{"attempt":1,"status":422}]"""), CreatedAt = now, UpdatedAt = now,
            });
            context.CronJobExecutions.Add(new CronJobExecution
            {
                JobName = "digest-dispatch", StartedAt = now, CompletedAt = now.AddSeconds(2), DurationMs = 2000,
                Status = CronJobStatus.Completed, Results = JsonDocument.Parse("""{"found":1,"completed":1}"""),
            });
            context.IdempotencyKeys.Add(new IdempotencyKey
            {
                Scope = "producer-a", Key = "key-1", RequestHash = "abc", ResponseStatusCode = 202,
                ResponseBody = JsonDocument.Parse("""{"notificationId":"n"}"""), CreatedAt = now, CompletedAt = now, ExpiresAt = now.AddHours(24),
            });
            await context.SaveChangesAsync(CancellationToken);
        }

        await using (var context = CreateContext(connectionString))
        {
            var folded = await context.DeliveryJobs.SingleAsync(job => job.Status == DeliveryJobStatus.Digested, CancellationToken);
            Assert.Equal(digestJob.Id, folded.DigestJobId);
            Assert.Equal(notification.Id, folded.NotificationId);
            var storedNotification = await context.Notifications.SingleAsync(CancellationToken);
            Assert.Equal(NotificationPriority.High, storedNotification.Priority);
            Assert.Equal(42, storedNotification.Data.RootElement.GetProperty("testimonialId").GetInt32());
            Assert.Equal(now, storedNotification.CreatedAt);
            var storedSchedule = await context.DigestSchedules.SingleAsync(CancellationToken);
            Assert.Equal(new TimeOnly(9, 0), storedSchedule.DeliveryTime);
            Assert.Equal(["testimonials", "security"], storedSchedule.IncludedCategories);
            var outbox = await context.OutboxMessages.SingleAsync(CancellationToken);
            Assert.True(outbox.Id > 0);
            Assert.Equal(DeliveryMode.Digest, (await context.NotificationPreferences.SingleAsync(CancellationToken)).DeliveryMode);
            Assert.Equal(97, (await context.EmailUsageSnapshots.SingleAsync(CancellationToken)).SentCount);
            Assert.Equal(DeliveryErrorType.Permanent, (await context.DeadLetters.SingleAsync(CancellationToken)).ErrorType);
            Assert.Equal(CronJobStatus.Completed, (await context.CronJobExecutions.SingleAsync(CancellationToken)).Status);
            Assert.Equal(202, (await context.IdempotencyKeys.SingleAsync(CancellationToken)).ResponseStatusCode);
            Assert.Equal(DeliveryOutcome.TransientFailure, (await context.DeliveryLogs.SingleAsync(CancellationToken)).Outcome);
        }
    }

    [Fact]
    public async Task DigestPeriodKey_SecondDigestForTheSamePeriod_IsRejected()
    {
        var connectionString = await CreateMigratedDatabaseAsync(postgres);
        var now = DateTimeOffset.UtcNow;
        await using var context = CreateContext(connectionString);
        context.Users.Add(new User { Id = "user-2", CreatedAt = now, UpdatedAt = now });
        context.DeliveryJobs.Add(Digest("user-2", "schedule-1:2026-03-29T09:00Z", now));
        await context.SaveChangesAsync(CancellationToken);

        await using var second = CreateContext(connectionString);
        second.DeliveryJobs.Add(Digest("user-2", "schedule-1:2026-03-29T09:00Z", now));
        var error = await Assert.ThrowsAsync<DbUpdateException>(() => second.SaveChangesAsync(CancellationToken));

        Assert.Equal("ux_delivery_jobs_digest_period", Assert.IsType<PostgresException>(error.InnerException).ConstraintName);
    }

    [Fact]
    public async Task OutboxMessages_HaveNoNotifyTrigger_SoACommittedInsertSignalsNoOne()
    {
        var connectionString = await CreateMigratedDatabaseAsync(postgres);
        await using var dataSource = NpgsqlDataSource.Create(connectionString);
        Assert.Equal(0L, await ScalarAsync<long>(dataSource,
            "SELECT count(*) FROM pg_trigger WHERE tgrelid = 'outbox_messages'::regclass AND NOT tgisinternal"));
        Assert.Equal(0L, await ScalarAsync<long>(dataSource,
            "SELECT count(*) FROM pg_proc WHERE proname = 'notify_outbox_messages_inserted'"));
        await using var listener = await OutboxSignalListener.StartAsync(connectionString);

        var now = DateTimeOffset.UtcNow;
        await using var context = CreateContext(connectionString);
        var digest = Digest("user-3", "period", now);
        context.Users.Add(new User { Id = "user-3", CreatedAt = now, UpdatedAt = now });
        context.DeliveryJobs.Add(digest);
        context.OutboxMessages.Add(new OutboxMessage
        {
            JobId = digest.Id, Channel = DeliveryChannel.Email, Payload = JsonDocument.Parse("{}"), CreatedAt = now, AvailableAt = now,
        });
        await context.SaveChangesAsync(CancellationToken);

        // Writers signal the relays themselves (OutboxSignal, the API's OutboxWakeup).
        Assert.Equal(0, await listener.CountSignalsBeforeMarkerAsync());
    }

    private static DeliveryJob Digest(string userId, string periodKey, DateTimeOffset now) => new()
    {
        Kind = DeliveryJobKind.Digest, DigestMaxItems = 20, UserId = userId, Channel = DeliveryChannel.Email, Status = DeliveryJobStatus.Queued,
        DigestPeriodKey = periodKey, ScheduledFor = now, CreatedAt = now, UpdatedAt = now,
    };

    [GeneratedRegex("'([^']*)'::text")]
    private static partial Regex QuotedLiteral();
}
