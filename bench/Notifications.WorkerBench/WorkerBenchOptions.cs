namespace Notifications.WorkerBench;

/// <summary>
/// Bound from the command line, e.g. <c>--Jobs 60000 --Mode drain --MaxConcurrency 32</c>. Settings for the worker
/// process itself (<c>--WorkerSettings:…</c>) are read by <see cref="WorkerSettings"/>, not bound here.
/// </summary>
internal sealed class WorkerBenchOptions
{
    /// <summary>
    /// <c>drain</c>: every entry is appended at once and the worker empties the backlog (the maximum throughput);
    /// <c>rate</c>: entries are appended at <see cref="Rate"/> per second for <see cref="Duration"/> (open loop), which is
    /// what queue-to-sent latency means something for.
    /// </summary>
    public string Mode { get; set; } = "drain";

    /// <summary>Jobs in a drain run (a rate run makes Rate × Duration).</summary>
    public int Jobs { get; set; } = 60_000;

    public int Rate { get; set; } = 3000;

    public TimeSpan Duration { get; set; } = TimeSpan.FromSeconds(20);

    /// <summary>
    /// Jobs drained before the measured run, so the worker is JIT-compiled and its pools are warm. Tiered compilation
    /// takes hot methods through several recompilations: after 5,000 jobs the worker still JIT-compiled hundreds of
    /// methods a second through a 30,000-job run (about a third of its CPU); after 20,000 it was done.
    /// </summary>
    public int WarmupJobs { get; set; } = 20_000;

    /// <summary>Recipients the jobs are spread over.</summary>
    public int Users { get; set; } = 1000;

    /// <summary><c>in_app</c> or <c>email</c>.</summary>
    public string Channel { get; set; } = "in_app";

    /// <summary>
    /// The email channel's provider: <c>resend</c> (default: the worker's Resend client against a fake Resend API served
    /// by the bench on a loopback port, so the run includes the real HTTP path) or <c>dev-mailbox</c> (a row per email
    /// in Postgres).
    /// </summary>
    public string EmailProvider { get; set; } = ResendProvider;

    /// <summary>
    /// The channel's <c>Worker:Channels:&lt;channel&gt;:MaxConcurrency</c> for the run (shipped: 32 for in-app; the default
    /// of 5 is meant for real email providers).
    /// </summary>
    public int MaxConcurrency { get; set; } = 32;

    public const string ResendProvider = "resend";
    public const string DevMailboxProvider = "dev-mailbox";
}
