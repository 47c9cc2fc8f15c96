using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using Microsoft.EntityFrameworkCore.Metadata.Conventions;

namespace Notifications.Domain.Persistence;

/// <summary>Names every column after its property in snake_case unless a configuration names it explicitly.</summary>
internal sealed class SnakeCaseColumnNamingConvention : IModelFinalizingConvention
{
    public void ProcessModelFinalizing(IConventionModelBuilder modelBuilder, IConventionContext<IConventionModelBuilder> context)
    {
        foreach (var entityType in modelBuilder.Metadata.GetEntityTypes())
        {
            foreach (var property in entityType.GetDeclaredProperties())
            {
                property.Builder.HasColumnName(SnakeCase.FromPascalCase(property.Name));
            }
        }
    }
}
