namespace Notifications.Scheduler.Tests;

/// <summary>One Redis and one Postgres for the scheduler tests; each test uses fresh user ids (or a database of its own).</summary>
[CollectionDefinition(Name)]
public sealed class SchedulerTestCollection : ICollectionFixture<TestServers>
{
    public const string Name = "Scheduler on Redis and Postgres";
}
