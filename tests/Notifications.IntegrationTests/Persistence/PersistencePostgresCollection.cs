
namespace Notifications.IntegrationTests.Persistence;

/// <summary>One Postgres server for the persistence tests; each test creates its own database on it.</summary>
[CollectionDefinition(Name)]
public sealed class PersistencePostgresCollection : ICollectionFixture<PostgresServerFixture>
{
    public const string Name = "Persistence on Postgres";
}
