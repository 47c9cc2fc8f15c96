using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using Notifications.Domain.Model;

namespace Notifications.Domain.Persistence.Configurations;

internal sealed class DevMailboxMessageConfiguration : IEntityTypeConfiguration<DevMailboxMessage>
{
    public void Configure(EntityTypeBuilder<DevMailboxMessage> builder)
    {
        builder.ToTable("dev_mailbox_messages");
        builder.HasKey(message => message.Id).HasName("dev_mailbox_messages_pkey");
        builder.Property(message => message.Id).ValueGeneratedNever();
        builder.Property(message => message.Headers).HasColumnType("jsonb");

        builder.HasIndex(message => message.IdempotencyKey).IsUnique().HasDatabaseName("ux_dev_mailbox_messages_idempotency_key");
        builder.HasIndex(message => message.CreatedAt).IsDescending().HasDatabaseName("ix_dev_mailbox_messages_created_at");
        builder.HasIndex(message => new { message.ToAddress, message.CreatedAt })
            .IsDescending(false, true)
            .HasDatabaseName("ix_dev_mailbox_messages_to_address_created_at");
    }
}
