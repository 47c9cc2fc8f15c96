using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using Notifications.Domain.Model;

namespace Notifications.Domain.Persistence.Configurations;

internal sealed class OutboxMessageConfiguration : IEntityTypeConfiguration<OutboxMessage>
{
    public void Configure(EntityTypeBuilder<OutboxMessage> builder)
    {
        builder.ToTable("outbox_messages");
        builder.HasKey(message => message.Id).HasName("outbox_messages_pkey");
        builder.Property(message => message.Id).UseIdentityAlwaysColumn();
        builder.Property(message => message.Payload).HasColumnType("jsonb");
        builder.Property(message => message.TraceParent).HasColumnName("traceparent");
        builder.Property(message => message.TraceState).HasColumnName("tracestate");

        builder.HasOne<DeliveryJob>().WithMany().HasForeignKey(message => message.JobId)
            .HasConstraintName("outbox_messages_job_id_fkey").OnDelete(DeleteBehavior.Cascade);

        builder.HasIndex(message => message.Id)
            .HasDatabaseName("ix_outbox_messages_undispatched")
            .HasFilter("dispatched_at IS NULL");
        builder.HasIndex(message => message.DispatchedAt)
            .HasDatabaseName("ix_outbox_messages_dispatched_at")
            .HasFilter("dispatched_at IS NOT NULL");
        builder.HasIndex(message => message.JobId).HasDatabaseName("ix_outbox_messages_job_id");
    }
}
