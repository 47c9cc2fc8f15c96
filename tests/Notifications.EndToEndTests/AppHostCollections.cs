using System.Globalization;
using Notifications.Testing;
using Notifications.Testing.Fakes;

// Each collection runs a whole AppHost (Postgres, Redis, four .NET services); one at a time keeps a small CI machine responsive.
[assembly: CollectionBehavior(DisableTestParallelization = true)]

namespace Notifications.EndToEndTests;

/// <summary>One AppHost shared by the tests that only look at it.</summary>
[CollectionDefinition(Name)]
public sealed class RunningAppHostCollection : ICollectionFixture<AppHostTestHost>
{
    public const string Name = "Running AppHost";
}

/// <summary>
/// An AppHost for breaking things (Redis flushed, the worker killed): its own, so the faults touch no other test. Email
/// goes to a fake Resend that counts what it accepts per idempotency key; the worker takes over a dead worker's entries
/// and jobs within seconds; stuck-job recovery considers a job stuck after its shortest allowed threshold.
/// </summary>
[CollectionDefinition(Name)]
public sealed class FaultsAppHostCollection : ICollectionFixture<FaultsAppHost>
{
    public const string Name = "AppHost with faults";
}

public sealed class FaultsAppHost : IAsyncLifetime
{
    /// <summary>The shortest threshold the scheduler accepts.</summary>
    public static readonly TimeSpan StuckJobThreshold = TimeSpan.FromMinutes(1);

    /// <summary>How long one blocking stream read of the worker waits.</summary>
    public static readonly TimeSpan ReadBlockTime = TimeSpan.FromMilliseconds(500);

    public FakeResendServer Resend { get; private set; } = null!;

    public AppHostTestHost AppHost { get; private set; } = null!;

    public async ValueTask InitializeAsync()
    {
        Resend = await FakeResendServer.StartNewAsync();
        AppHost = AppHostTestHost.WithEnvironment(new Dictionary<string, string>
        {
            ["Email__EnableRealEmails"] = "true",
            ["Email__Provider"] = "resend",
            ["Email__From"] = "Notifications <notifications@example.com>",
            ["Email__Resend__BaseUrl"] = Resend.BaseUrl.ToString(),
            ["Email__Resend__ApiKey"] = FakeResendServer.ApiKey,
            ["Email__Resend__Timeout"] = "00:00:04",
            // An attempt may take half the lease (5 s, longer than Resend's timeout); a dead worker's jobs are free after 10 s.
            ["Worker__Lease"] = "00:00:10",
            ["Worker__ReclaimMinIdle"] = "00:00:05",
            ["Worker__ReclaimInterval"] = "00:00:01",
            ["Worker__ReadBlockTime"] = ReadBlockTime.ToString("c", CultureInfo.InvariantCulture),
            ["Scheduler__StuckJobs__Threshold"] = StuckJobThreshold.ToString("c", CultureInfo.InvariantCulture),
        });
        await AppHost.InitializeAsync();
    }

    public async ValueTask DisposeAsync()
    {
        if (AppHost is not null)
        {
            await AppHost.DisposeAsync();
        }
        if (Resend is not null)
        {
            await Resend.DisposeAsync();
        }
    }
}

/// <summary>An AppHost whose email quota is 2 a day, so that it runs out within a test.</summary>
[CollectionDefinition(Name)]
public sealed class QuotaAppHostCollection : ICollectionFixture<QuotaAppHost>
{
    public const string Name = "AppHost with a daily email quota of 2";
}

public sealed class QuotaAppHost : IAsyncLifetime
{
    public const int DailyLimit = 2;

    public AppHostTestHost AppHost { get; } = AppHostTestHost.WithEnvironment(new Dictionary<string, string>
    {
        ["Email__Quota__DailyLimit"] = DailyLimit.ToString(CultureInfo.InvariantCulture),
    });

    public ValueTask InitializeAsync() => AppHost.InitializeAsync();

    public ValueTask DisposeAsync() => AppHost.DisposeAsync();
}
