namespace Notifications.SchedulerBench;

/// <summary>Bound from the command line, e.g. <c>--Users 100000 --ItemsPerUser 10 --BatchSize 500 --Parallelism 2</c>.</summary>
internal sealed class SchedulerBenchOptions
{
    /// <summary>Users, each with one daily digest schedule, all due at once.</summary>
    public int Users { get; set; } = 100_000;

    /// <summary><c>digest_pending</c> email jobs (and their notifications) per user.</summary>
    public int ItemsPerUser { get; set; } = 10;

    /// <summary><c>Scheduler:Digests:BatchSize</c> for the run.</summary>
    public int BatchSize { get; set; } = 500;

    /// <summary><c>Scheduler:Digests:Parallelism</c> for the run.</summary>
    public int Parallelism { get; set; } = 2;

    /// <summary>
    /// A superuser connection string of the PostgreSQL server to use (a fresh database is created on it, and dropped
    /// afterwards unless <see cref="KeepDatabase"/>); default: the running AppHost's <c>postgres</c>.
    /// </summary>
    public string? Postgres { get; set; }

    /// <summary>The AppHost's state directory, to find its <c>endpoints.json</c>; default: the AppHost's default.</summary>
    public string? StateDirectory { get; set; }

    public bool KeepDatabase { get; set; }
}
