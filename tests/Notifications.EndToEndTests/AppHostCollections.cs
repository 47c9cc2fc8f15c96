using Notifications.Testing;

// Each collection runs a whole AppHost (Postgres, Redis, four .NET services); one at a time keeps a small CI machine responsive.
[assembly: CollectionBehavior(DisableTestParallelization = true)]

namespace Notifications.EndToEndTests;

/// <summary>One AppHost shared by the tests that only look at it.</summary>
[CollectionDefinition(Name)]
public sealed class RunningAppHostCollection : ICollectionFixture<AppHostTestHost>
{
    public const string Name = "Running AppHost";
}
