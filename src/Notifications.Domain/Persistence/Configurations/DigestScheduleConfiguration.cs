using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using Notifications.Domain.Model;

namespace Notifications.Domain.Persistence.Configurations;

internal sealed class DigestScheduleConfiguration : IEntityTypeConfiguration<DigestSchedule>
{
    public void Configure(EntityTypeBuilder<DigestSchedule> builder)
    {
        builder.ToTable("digest_schedules");
        builder.HasKey(schedule => schedule.Id).HasName("digest_schedules_pkey");
        builder.Property(schedule => schedule.Id).ValueGeneratedNever();

        builder.HasOne<User>().WithMany().HasForeignKey(schedule => schedule.UserId)
            .HasConstraintName("digest_schedules_user_id_fkey").OnDelete(DeleteBehavior.Cascade);

        builder.HasIndex(schedule => schedule.NextDueAt)
            .HasDatabaseName("ix_digest_schedules_due")
            .HasFilter("active");
        builder.HasIndex(schedule => schedule.UserId).HasDatabaseName("ix_digest_schedules_user_id");
    }
}
