using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using Notifications.Domain.Model;

namespace Notifications.Domain.Persistence.Configurations;

internal sealed class NotificationPreferenceConfiguration : IEntityTypeConfiguration<NotificationPreference>
{
    public void Configure(EntityTypeBuilder<NotificationPreference> builder)
    {
        builder.ToTable("notification_preferences");
        builder.HasKey(preference => new { preference.UserId, preference.Scope, preference.ScopeKey, preference.Channel })
            .HasName("notification_preferences_pkey");

        builder.HasOne<User>().WithMany().HasForeignKey(preference => preference.UserId)
            .HasConstraintName("notification_preferences_user_id_fkey").OnDelete(DeleteBehavior.Cascade);
    }
}
