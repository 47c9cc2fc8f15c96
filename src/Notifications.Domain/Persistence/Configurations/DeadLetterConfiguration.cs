using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using Notifications.Domain.Model;

namespace Notifications.Domain.Persistence.Configurations;

internal sealed class DeadLetterConfiguration : IEntityTypeConfiguration<DeadLetter>
{
    public void Configure(EntityTypeBuilder<DeadLetter> builder)
    {
        builder.ToTable("dead_letters");
        builder.HasKey(deadLetter => deadLetter.Id).HasName("dead_letters_pkey");
        builder.Property(deadLetter => deadLetter.Id).ValueGeneratedNever();
        builder.Property(deadLetter => deadLetter.AttemptHistory).HasColumnType("jsonb");

        builder.HasOne<DeliveryJob>().WithMany().HasForeignKey(deadLetter => deadLetter.JobId)
            .HasConstraintName("dead_letters_job_id_fkey").OnDelete(DeleteBehavior.Cascade);

        builder.HasIndex(deadLetter => deadLetter.JobId).HasDatabaseName("ux_dead_letters_job_id").IsUnique();
        builder.HasIndex(deadLetter => deadLetter.CreatedAt)
            .HasDatabaseName("ix_dead_letters_created_at")
            .IsDescending();
        builder.HasIndex(deadLetter => new { deadLetter.ErrorType, deadLetter.CreatedAt })
            .HasDatabaseName("ix_dead_letters_error_type_created_at")
            .IsDescending(false, true);
        builder.HasIndex(deadLetter => new { deadLetter.Channel, deadLetter.CreatedAt })
            .HasDatabaseName("ix_dead_letters_channel_created_at")
            .IsDescending(false, true);
    }
}
