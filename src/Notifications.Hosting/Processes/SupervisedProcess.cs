using Microsoft.Extensions.Logging;

namespace Notifications.Hosting.Processes;

/// <summary>When a process that exits is restarted; <see cref="None"/> runs it to completion.</summary>
public sealed record RestartPolicy(TimeSpan InitialDelay, TimeSpan MaxDelay)
{
    public static RestartPolicy None { get; } = new(TimeSpan.Zero, TimeSpan.Zero);

    /// <summary>A run at least this long counts as healthy, so the next crash starts the backoff afresh.</summary>
    public TimeSpan StableAfter { get; init; } = TimeSpan.FromSeconds(60);

    public bool Restarts => this != None;

    public TimeSpan DelayBeforeRestart(int consecutiveFailures)
    {
        var exponent = Math.Min(consecutiveFailures - 1, 16);
        var delay = InitialDelay * Math.Pow(2, exponent);
        return delay < MaxDelay ? delay : MaxDelay;
    }
}

/// <summary>
/// Keeps a process running: reports each unexpected exit with its exit code and restarts it with exponential
/// backoff, until <see cref="StopAsync"/>. With <see cref="RestartPolicy.None"/> it runs once.
/// </summary>
public sealed partial class SupervisedProcess : IAsyncDisposable
{
    private readonly string _resourceName;
    private readonly ProcessSpec _spec;
    private readonly RestartPolicy _restartPolicy;
    private readonly TimeSpan _gracePeriod;
    private readonly ResourceOutput _output;
    private readonly ILogger _logger;
    private readonly TimeProvider _timeProvider;
    private readonly CancellationTokenSource _stopping = new();
    private readonly Lock _gate = new();
    private readonly TaskCompletionSource<int> _firstExit = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Task? _supervision;
    private ManagedProcess? _current;
    private Task? _stop;

    public SupervisedProcess(
        string resourceName,
        ProcessSpec spec,
        RestartPolicy restartPolicy,
        TimeSpan gracePeriod,
        ResourceOutput output,
        ILogger logger,
        TimeProvider timeProvider)
    {
        _resourceName = resourceName;
        _spec = spec;
        _restartPolicy = restartPolicy;
        _gracePeriod = gracePeriod;
        _output = output;
        _logger = logger;
        _timeProvider = timeProvider;
    }

    /// <summary>Raised with the new process id each time the process is (re)started.</summary>
    public event Action<int>? Started;

    public int? ProcessId => _current?.Id;

    /// <summary>The exit code of the first run; for a run-to-completion process, its result.</summary>
    public Task<int> FirstExit => _firstExit.Task;

    /// <summary>Starts the first run; throws if the executable cannot be started at all.</summary>
    public void Start()
    {
        if (_supervision is not null)
        {
            throw new InvalidOperationException($"'{_resourceName}' is already started.");
        }

        var first = Launch() ?? throw new InvalidOperationException($"'{_resourceName}' is stopping.");
        _supervision = SuperviseAsync(first);
    }

    /// <summary>Stops the process (stop signal, grace period, kill) and its supervision; safe to call more than once.</summary>
    public Task StopAsync()
    {
        lock (_gate)
        {
            return _stop ??= StopCoreAsync();
        }
    }

    private async Task StopCoreAsync()
    {
        ManagedProcess? current;
        lock (_gate)
        {
            // Under the gate so that no restart slips in between the cancellation and reading the current process.
            _stopping.Cancel();
            current = _current;
        }

        if (current is { } process)
        {
            var exitCode = await process.StopAsync(_spec.StopSignal, _gracePeriod).ConfigureAwait(false);
            Log.Stopped(_logger, _resourceName, process.Id, exitCode);
        }

        if (_supervision is not null)
        {
            await _supervision.ConfigureAwait(false);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync().ConfigureAwait(false);
        if (_current is not null)
        {
            await _current.DisposeAsync().ConfigureAwait(false);
        }

        _stopping.Dispose();
    }

    private ManagedProcess? Launch()
    {
        ManagedProcess process;
        lock (_gate)
        {
            if (_stopping.IsCancellationRequested)
            {
                return null;
            }

            process = ManagedProcess.Start(_resourceName, _spec, _output);
            _current = process;
        }

        Log.ProcessStarted(_logger, _resourceName, process.Id, _spec.FileName);
        Started?.Invoke(process.Id);
        return process;
    }

    private async Task SuperviseAsync(ManagedProcess process)
    {
        var consecutiveFailures = 0;
        while (true)
        {
            var startedAt = _timeProvider.GetTimestamp();
            var exitCode = await process.Exited.ConfigureAwait(false);
            _firstExit.TrySetResult(exitCode);
            if (_stopping.IsCancellationRequested)
            {
                return;
            }

            if (!_restartPolicy.Restarts)
            {
                Log.Completed(_logger, _resourceName, exitCode);
                return;
            }

            consecutiveFailures = _timeProvider.GetElapsedTime(startedAt) >= _restartPolicy.StableAfter ? 1 : consecutiveFailures + 1;
            var delay = _restartPolicy.DelayBeforeRestart(consecutiveFailures);
            Log.Crashed(_logger, _resourceName, process.Id, exitCode, delay.TotalSeconds);
            await process.DisposeAsync().ConfigureAwait(false);

            while (true)
            {
                try
                {
                    await Task.Delay(delay, _timeProvider, _stopping.Token).ConfigureAwait(false);
                    if (Launch() is not { } restarted)
                    {
                        return;
                    }

                    process = restarted;
                    break;
                }
                catch (OperationCanceledException)
                {
                    return;
                }
                catch (Exception exception) when (exception is System.ComponentModel.Win32Exception or IOException)
                {
                    consecutiveFailures++;
                    delay = _restartPolicy.DelayBeforeRestart(consecutiveFailures);
                    Log.RestartFailed(_logger, exception, _resourceName, delay.TotalSeconds);
                }
            }
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 1101, Level = LogLevel.Debug, Message = "{Resource}: started process {ProcessId} ({FileName})")]
        public static partial void ProcessStarted(ILogger logger, string resource, int processId, string fileName);

        [LoggerMessage(EventId = 1102, Level = LogLevel.Warning, Message = "{Resource}: process {ProcessId} exited unexpectedly with code {ExitCode}; restarting in {DelaySeconds:0.#} s")]
        public static partial void Crashed(ILogger logger, string resource, int processId, int exitCode, double delaySeconds);

        [LoggerMessage(EventId = 1103, Level = LogLevel.Error, Message = "{Resource}: could not restart; retrying in {DelaySeconds:0.#} s")]
        public static partial void RestartFailed(ILogger logger, Exception exception, string resource, double delaySeconds);

        [LoggerMessage(EventId = 1104, Level = LogLevel.Information, Message = "{Resource}: exited with code {ExitCode}")]
        public static partial void Completed(ILogger logger, string resource, int exitCode);

        [LoggerMessage(EventId = 1105, Level = LogLevel.Information, Message = "{Resource}: stopped process {ProcessId} (exit code {ExitCode})")]
        public static partial void Stopped(ILogger logger, string resource, int processId, int exitCode);
    }
}
