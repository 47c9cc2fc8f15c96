using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using Notifications.Domain.Model;

namespace Notifications.Domain.Persistence.Configurations;

internal sealed class IdempotencyKeyConfiguration : IEntityTypeConfiguration<IdempotencyKey>
{
    public void Configure(EntityTypeBuilder<IdempotencyKey> builder)
    {
        builder.ToTable("idempotency_keys");
        builder.HasKey(key => new { key.Scope, key.Key }).HasName("idempotency_keys_pkey");
        builder.Property(key => key.ResponseBody).HasColumnType("jsonb");

        builder.HasIndex(key => key.ExpiresAt).HasDatabaseName("ix_idempotency_keys_expires_at");
    }
}
