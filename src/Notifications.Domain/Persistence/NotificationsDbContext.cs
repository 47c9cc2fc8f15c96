using Microsoft.EntityFrameworkCore;
using Notifications.Domain.Model;

namespace Notifications.Domain.Persistence;

/// <summary>
/// The platform's tables. The schema itself is owned by the SQL scripts in <c>Persistence/Migrations</c>;
/// this model mirrors them (a test compares the two).
/// </summary>
public sealed class NotificationsDbContext(DbContextOptions<NotificationsDbContext> options) : DbContext(options)
{
    public DbSet<User> Users => Set<User>();
    public DbSet<Notification> Notifications => Set<Notification>();
    public DbSet<InboxCounter> InboxCounters => Set<InboxCounter>();
    public DbSet<DeliveryJob> DeliveryJobs => Set<DeliveryJob>();
    public DbSet<DeliveryLog> DeliveryLogs => Set<DeliveryLog>();
    public DbSet<OutboxMessage> OutboxMessages => Set<OutboxMessage>();
    public DbSet<NotificationPreference> NotificationPreferences => Set<NotificationPreference>();
    public DbSet<DigestSchedule> DigestSchedules => Set<DigestSchedule>();
    public DbSet<EmailUsageSnapshot> EmailUsageSnapshots => Set<EmailUsageSnapshot>();
    public DbSet<DeadLetter> DeadLetters => Set<DeadLetter>();
    public DbSet<CronJobExecution> CronJobExecutions => Set<CronJobExecution>();
    public DbSet<IdempotencyKey> IdempotencyKeys => Set<IdempotencyKey>();
    public DbSet<DevMailboxMessage> DevMailboxMessages => Set<DevMailboxMessage>();

    protected override void OnModelCreating(ModelBuilder modelBuilder) =>
        modelBuilder.ApplyConfigurationsFromAssembly(typeof(NotificationsDbContext).Assembly);

    protected override void ConfigureConventions(ModelConfigurationBuilder configurationBuilder)
    {
        configurationBuilder.Properties<NotificationPriority>().HaveConversion<SnakeCaseEnumConverter<NotificationPriority>>();
        configurationBuilder.Properties<DeliveryChannel>().HaveConversion<SnakeCaseEnumConverter<DeliveryChannel>>();
        configurationBuilder.Properties<DeliveryJobKind>().HaveConversion<SnakeCaseEnumConverter<DeliveryJobKind>>();
        configurationBuilder.Properties<DeliveryJobStatus>().HaveConversion<SnakeCaseEnumConverter<DeliveryJobStatus>>();
        configurationBuilder.Properties<DeliveryOutcome>().HaveConversion<SnakeCaseEnumConverter<DeliveryOutcome>>();
        configurationBuilder.Properties<DeliveryErrorType>().HaveConversion<SnakeCaseEnumConverter<DeliveryErrorType>>();
        configurationBuilder.Properties<PreferenceScope>().HaveConversion<SnakeCaseEnumConverter<PreferenceScope>>();
        configurationBuilder.Properties<DeliveryMode>().HaveConversion<SnakeCaseEnumConverter<DeliveryMode>>();
        configurationBuilder.Properties<DigestFrequency>().HaveConversion<SnakeCaseEnumConverter<DigestFrequency>>();
        configurationBuilder.Properties<CronJobStatus>().HaveConversion<SnakeCaseEnumConverter<CronJobStatus>>();
        configurationBuilder.Conventions.Add(_ => new SnakeCaseColumnNamingConvention());
    }
}
