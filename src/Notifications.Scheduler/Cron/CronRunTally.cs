namespace Notifications.Scheduler.Cron;

/// <summary>
/// What one run did, as recorded in <c>cron_job_executions.results</c>: items found, completed, failed (an item that
/// could not be handled), skipped (found but deliberately left, e.g. a digest with nothing to send), and processing
/// errors (a batch or step that threw).
/// </summary>
public sealed record CronRunCounts(int Found, int Completed, int Failed, int Skipped, int Errors)
{
    public static readonly CronRunCounts None = new(0, 0, 0, 0, 0);
}

/// <summary>
/// Counts a run's work as it goes. A job adds to it as each batch commits, so a run that fails half-way still reports
/// what it got done. Safe to share between the batches a run works on at once.
/// </summary>
public sealed class CronRunTally
{
    private readonly Lock _gate = new();
    private CronRunCounts _counts = CronRunCounts.None;

    /// <summary>The message of the last error or failed item, for the run's record and its alert.</summary>
    public string? LastError { get; private set; }

    public CronRunCounts Counts
    {
        get
        {
            lock (_gate)
            {
                return _counts;
            }
        }
    }

    public void Add(int found = 0, int completed = 0, int failed = 0, int skipped = 0)
    {
        lock (_gate)
        {
            _counts = _counts with
            {
                Found = _counts.Found + found,
                Completed = _counts.Completed + completed,
                Failed = _counts.Failed + failed,
                Skipped = _counts.Skipped + skipped,
            };
        }
    }

    /// <summary>Records an item that could not be handled, and why.</summary>
    public void AddFailure(Exception exception)
    {
        lock (_gate)
        {
            _counts = _counts with { Failed = _counts.Failed + 1 };
            LastError = exception.Message;
        }
    }

    /// <summary>Records a processing error (a batch or step that threw) the run carried on past.</summary>
    public void AddError(Exception exception)
    {
        lock (_gate)
        {
            _counts = _counts with { Errors = _counts.Errors + 1 };
            LastError = exception.Message;
        }
    }
}
