namespace Notifications.Domain.Persistence.Migrations;

/// <summary>The SQL scripts compiled into this assembly (<c>Persistence/Migrations/*.sql</c>), in version order.</summary>
public static class EmbeddedMigrations
{
    private const string ResourcePrefix = "Migrations.";

    private static readonly Lazy<IReadOnlyList<MigrationScript>> Scripts = new(Load);

    public static IReadOnlyList<MigrationScript> All => Scripts.Value;

    /// <summary>The newest script: the schema version this build needs.</summary>
    public static MigrationScript Latest => All[^1];

    private static IReadOnlyList<MigrationScript> Load()
    {
        var assembly = typeof(EmbeddedMigrations).Assembly;
        var scripts = new List<MigrationScript>();
        foreach (var resourceName in assembly.GetManifestResourceNames())
        {
            if (!resourceName.StartsWith(ResourcePrefix, StringComparison.Ordinal)
                || !resourceName.EndsWith(".sql", StringComparison.Ordinal))
            {
                continue;
            }

            using var stream = assembly.GetManifestResourceStream(resourceName)!;
            using var reader = new StreamReader(stream);
            scripts.Add(MigrationScript.FromFile(resourceName[ResourcePrefix.Length..], reader.ReadToEnd()));
        }

        if (scripts.Count == 0)
        {
            throw new InvalidOperationException($"No migration scripts are embedded in {assembly.GetName().Name}.");
        }

        var duplicate = scripts.GroupBy(script => script.Version).FirstOrDefault(group => group.Count() > 1);
        if (duplicate is not null)
        {
            throw new InvalidOperationException(
                $"Migration scripts {string.Join(" and ", duplicate)} share version {duplicate.Key}; versions must be unique.");
        }

        return [.. scripts.OrderBy(script => script.Version)];
    }
}
