using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using Notifications.Domain.Model;

namespace Notifications.Domain.Persistence.Configurations;

internal sealed class EmailUsageSnapshotConfiguration : IEntityTypeConfiguration<EmailUsageSnapshot>
{
    public void Configure(EntityTypeBuilder<EmailUsageSnapshot> builder)
    {
        builder.ToTable("email_usage_snapshots");
        builder.HasKey(snapshot => snapshot.Day).HasName("email_usage_snapshots_pkey");
    }
}
