using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using Notifications.Domain.Model;

namespace Notifications.Domain.Persistence.Configurations;

internal sealed class DeliveryLogConfiguration : IEntityTypeConfiguration<DeliveryLog>
{
    public void Configure(EntityTypeBuilder<DeliveryLog> builder)
    {
        builder.ToTable("delivery_logs");
        builder.HasKey(log => log.Id).HasName("delivery_logs_pkey");
        builder.Property(log => log.Id).ValueGeneratedNever();

        builder.HasOne<DeliveryJob>().WithMany().HasForeignKey(log => log.JobId)
            .HasConstraintName("delivery_logs_job_id_fkey").OnDelete(DeleteBehavior.Cascade);

        builder.HasIndex(log => new { log.JobId, log.Attempt }).HasDatabaseName("ix_delivery_logs_job_attempt");
        builder.HasIndex(log => log.CreatedAt).HasDatabaseName("ix_delivery_logs_created_at");
    }
}
