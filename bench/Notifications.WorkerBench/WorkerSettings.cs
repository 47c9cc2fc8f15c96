using Microsoft.Extensions.Configuration;
using Notifications.Domain;
using Notifications.Testing.Fakes;

namespace Notifications.WorkerBench;

/// <summary>The configuration the worker process runs with (it gets it as environment variables).</summary>
internal static class WorkerSettings
{
    public const string SectionName = "WorkerSettings";

    // Long enough for the validator (32 bytes); the bench's API never checks the links it signs.
    private const string BenchSigningKey = "worker-bench-unsubscribe-signing-key-0123456789";

    /// <summary>
    /// The bench's email settings (the worker will not start without them, whichever channel is measured), then the connection strings and the run's concurrency, then
    /// whatever <c>--WorkerSettings:…</c> keys the command line gives (they win). Keys compare as configuration keys do:
    /// case-insensitive, <c>__</c> the same as <c>:</c>.
    /// </summary>
    public static Dictionary<string, string> For(
        IConfiguration commandLine, WorkerBenchOptions options, string database, string redis, Uri? resendUrl)
    {
        var settings = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var (key, value) in EmailDefaults(resendUrl))
        {
            settings[key] = value;
        }
        settings[$"ConnectionStrings:{ResourceNames.Database}"] = database;
        settings[$"ConnectionStrings:{ResourceNames.Redis}"] = redis;
        settings[$"Worker:Channels:{options.Channel}:SendRateLimit"] = "0";
        settings[$"Worker:Channels:{options.Channel}:MaxConcurrency"] = options.MaxConcurrency.ToString();

        // Read as a section rather than bound to a Dictionary<string, string>: binding drops every nested key
        // (WorkerSettings:Email:Quota:Enabled) without a word, which is how a bench run once kept the worker's defaults.
        foreach (var (key, value) in commandLine.GetSection(SectionName).AsEnumerable(makePathsRelative: true))
        {
            if (value is not null)
            {
                settings[key.Replace("__", ":", StringComparison.Ordinal)] = value;
            }
        }
        return settings;
    }

    /// <summary>
    /// What it takes to measure the worker rather than its limits: no quota, no per-user rate limit (its default of 10
    /// an hour defers every user's 11th email by an hour, and the bench has no scheduler to release it), and a provider
    /// that answers at once (the fake Resend API when <paramref name="resendUrl"/> is given, else the dev mailbox).
    /// </summary>
    private static IEnumerable<KeyValuePair<string, string>> EmailDefaults(Uri? resendUrl)
    {
        yield return new("Email:Quota:Enabled", "false");
        yield return new("Email:UserRateLimit:Enabled", "false");
        yield return new("Email:Unsubscribe:SigningKey", BenchSigningKey);
        yield return new("Email:PublicBaseUrl", "http://localhost:5080");
        if (resendUrl is null)
        {
            yield return new("Email:Provider", WorkerBenchOptions.DevMailboxProvider);
            yield break;
        }
        yield return new("Email:EnableRealEmails", "true");
        yield return new("Email:Provider", WorkerBenchOptions.ResendProvider);
        yield return new("Email:From", "Worker bench <bench@bench.example>");
        yield return new("Email:Resend:BaseUrl", resendUrl.ToString());
        yield return new("Email:Resend:ApiKey", FakeResendServer.ApiKey);
    }
}
