using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using Notifications.Domain.Model;

namespace Notifications.Domain.Persistence.Configurations;

internal sealed class InboxCounterConfiguration : IEntityTypeConfiguration<InboxCounter>
{
    public void Configure(EntityTypeBuilder<InboxCounter> builder)
    {
        builder.ToTable("inbox_counters");
        builder.HasKey(counter => counter.UserId).HasName("inbox_counters_pkey");
        builder.HasOne<User>().WithOne().HasForeignKey<InboxCounter>(counter => counter.UserId)
            .HasConstraintName("inbox_counters_user_id_fkey").OnDelete(DeleteBehavior.Cascade);
    }
}
