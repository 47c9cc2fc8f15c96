namespace Notifications.IntegrationTests.Api.Security;

/// <summary>
/// One Redis and one migrated database for the API security tests; each test uses its own user ids, so counters
/// never mix.
/// </summary>
[CollectionDefinition(Name)]
public sealed class ApiSecurityCollection : ICollectionFixture<TestServers>
{
    public const string Name = "API security on Redis and Postgres";
}

/// <summary>A clock that stands still, so a test's requests all fall in one rate-limit window.</summary>
internal sealed class FrozenTimeProvider(DateTimeOffset now) : TimeProvider
{
    public override DateTimeOffset GetUtcNow() => now;
}
