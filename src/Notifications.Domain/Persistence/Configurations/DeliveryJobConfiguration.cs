using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using Notifications.Domain.Model;

namespace Notifications.Domain.Persistence.Configurations;

internal sealed class DeliveryJobConfiguration : IEntityTypeConfiguration<DeliveryJob>
{
    public void Configure(EntityTypeBuilder<DeliveryJob> builder)
    {
        builder.ToTable("delivery_jobs");
        builder.HasKey(job => job.Id).HasName("delivery_jobs_pkey");
        builder.Property(job => job.Id).ValueGeneratedNever();

        builder.HasOne<Notification>().WithMany().HasForeignKey(job => job.NotificationId)
            .HasConstraintName("delivery_jobs_notification_id_fkey").OnDelete(DeleteBehavior.Cascade);
        builder.HasOne<User>().WithMany().HasForeignKey(job => job.UserId)
            .HasConstraintName("delivery_jobs_user_id_fkey").OnDelete(DeleteBehavior.Cascade);
        builder.HasOne<DeliveryJob>().WithMany().HasForeignKey(job => job.DigestJobId)
            .HasConstraintName("delivery_jobs_digest_job_id_fkey").OnDelete(DeleteBehavior.SetNull);

        builder.HasIndex(job => new { job.NotificationId, job.Channel })
            .HasDatabaseName("ux_delivery_jobs_notification_channel")
            .IsUnique();
        builder.HasIndex(job => new { job.UserId, job.DigestPeriodKey })
            .HasDatabaseName("ux_delivery_jobs_digest_period")
            .IsUnique()
            .HasFilter("digest_period_key IS NOT NULL");
        builder.HasIndex(job => new { job.Status, job.ScheduledFor })
            .HasDatabaseName("ix_delivery_jobs_status_scheduled_for");
        builder.HasIndex(job => new { job.Status, job.UpdatedAt })
            .HasDatabaseName("ix_delivery_jobs_status_updated_at");
        // Two indexes on the same columns (one partial) need EF's named-index overload.
        builder.HasIndex(job => new { job.UserId, job.CreatedAt }, "ix_delivery_jobs_user_created_at")
            .IsDescending(false, true);
        builder.HasIndex(job => new { job.UserId, job.CreatedAt }, "ix_delivery_jobs_digest_pending")
            .IsDescending(false, true)
            .HasFilter("status = 'digest_pending'");
        builder.HasIndex(job => job.DigestJobId)
            .HasDatabaseName("ix_delivery_jobs_digest_job_id")
            .HasFilter("digest_job_id IS NOT NULL");
    }
}
