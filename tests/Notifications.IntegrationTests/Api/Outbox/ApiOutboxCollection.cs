namespace Notifications.IntegrationTests.Api.Outbox;

/// <summary>A Redis and a Postgres for the outbox relay tests; each test creates its own database.</summary>
[CollectionDefinition(Name)]
public sealed class ApiOutboxCollection : ICollectionFixture<TestServers>
{
    public const string Name = "API outbox relay on Redis and Postgres";
}
