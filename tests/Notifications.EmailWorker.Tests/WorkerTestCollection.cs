namespace Notifications.EmailWorker.Tests;

/// <summary>One Redis and one Postgres for the worker tests; each test uses fresh user ids (or a database of its own).</summary>
[CollectionDefinition(Name)]
public sealed class WorkerTestCollection : ICollectionFixture<TestServers>
{
    public const string Name = "Email worker on Redis and Postgres";
}
