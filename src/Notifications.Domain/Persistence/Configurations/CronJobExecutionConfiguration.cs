using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using Notifications.Domain.Model;

namespace Notifications.Domain.Persistence.Configurations;

internal sealed class CronJobExecutionConfiguration : IEntityTypeConfiguration<CronJobExecution>
{
    public void Configure(EntityTypeBuilder<CronJobExecution> builder)
    {
        builder.ToTable("cron_job_executions");
        builder.HasKey(execution => execution.Id).HasName("cron_job_executions_pkey");
        builder.Property(execution => execution.Id).ValueGeneratedNever();
        builder.Property(execution => execution.Results).HasColumnType("jsonb");

        builder.HasIndex(execution => new { execution.JobName, execution.StartedAt })
            .HasDatabaseName("ix_cron_job_executions_job_name_started_at")
            .IsDescending(false, true);
        builder.HasIndex(execution => execution.JobName)
            .HasDatabaseName("ix_cron_job_executions_running")
            .HasFilter("status = 'running'");
    }
}
