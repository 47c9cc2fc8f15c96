using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using Notifications.Domain.Model;

namespace Notifications.Domain.Persistence.Configurations;

internal sealed class NotificationConfiguration : IEntityTypeConfiguration<Notification>
{
    public void Configure(EntityTypeBuilder<Notification> builder)
    {
        builder.ToTable("notifications");
        builder.HasKey(notification => notification.Id).HasName("notifications_pkey");
        builder.Property(notification => notification.Id).ValueGeneratedNever();
        builder.Property(notification => notification.Data).HasColumnType("jsonb");

        builder.HasOne<User>().WithMany().HasForeignKey(notification => notification.UserId)
            .HasConstraintName("notifications_user_id_fkey").OnDelete(DeleteBehavior.Cascade);

        builder.HasIndex(notification => new { notification.UserId, notification.CreatedAt, notification.Id })
            .HasDatabaseName("ix_notifications_inbox")
            .IsDescending(false, true, true)
            .HasFilter("archived_at IS NULL");
        builder.HasIndex(notification => new { notification.UserId, notification.Category, notification.CreatedAt, notification.Id })
            .HasDatabaseName("ix_notifications_inbox_by_category")
            .IsDescending(false, false, true, true)
            .HasFilter("archived_at IS NULL");
        builder.HasIndex(notification => notification.UserId)
            .HasDatabaseName("ix_notifications_unread")
            .HasFilter("read_at IS NULL AND archived_at IS NULL");
    }
}
