using System.Collections.Concurrent;
using System.Diagnostics;
using Microsoft.Extensions.Options;
using Notifications.Domain;
using Notifications.Domain.Messaging;
using Notifications.Domain.Model;
using Notifications.Domain.Persistence;
using Notifications.Domain.Resilience;
using Notifications.EmailWorker.Delivery;
using Notifications.EmailWorker.Resilience;
using StackExchange.Redis;

namespace Notifications.EmailWorker.Consuming;

/// <summary>
/// Consumes one channel's delivery stream with the worker group, when a deliverer for the channel is registered.
/// Reads entries in batches, claims their jobs in one statement (the conditional UPDATE of the contract: an entry whose
/// job is already done is acknowledged and skipped, which makes redelivery harmless), attempts each claimed job
/// concurrently (bounded per channel, rate-limited across replicas, held back while a provider's circuit is open), and
/// hands each outcome to the <see cref="OutcomeWriter"/>, which commits outcomes in groups and then acknowledges them.
/// </summary>
/// <remarks>
/// Only what completed is acknowledged: an entry whose job failed to be recorded, or was abandoned at shutdown, stays
/// pending on this consumer, and any consumer reclaims it once it has been idle for <see cref="WorkerOptions.ReclaimMinIdle"/>;
/// the job's lease (<see cref="WorkerOptions.Lease"/>) then lets that consumer take the job over.
/// Stopping: reading stops at once; attempts in flight finish and are recorded, unless the host's shutdown timeout runs
/// out first, which cancels them.
/// </remarks>
internal sealed partial class ChannelConsumer : BackgroundService
{
    /// <summary>The provider named in a delivery log when the attempt failed in the worker itself (a deliverer threw, or timed out).</summary>
    public const string WorkerProvider = "worker";

    private static readonly ExponentialBackoff FailureDelay = new(TimeSpan.FromMilliseconds(200), TimeSpan.FromSeconds(10));
    private const int ClaimAttempts = 3;

    /// <summary>
    /// Batches' worth of entries a consumer holds at most (read, claimed, being attempted or recorded): enough to keep
    /// reads, claims, attempts and writes overlapping; a job that waits long for its attempt renews its lease.
    /// </summary>
    private const int InFlightBatches = 4;

    private readonly DeliveryChannel _channel;
    private readonly IServiceScopeFactory _scopes;
    private readonly JobStore _store;
    private readonly ProviderCircuitBreaker _breaker;
    private readonly IDatabase _redis;
    private readonly IConfiguration _configuration;
    private readonly WorkerIdentity _identity;
    private readonly WorkerOptions _options;
    private readonly JobOutcomes _outcomes;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger<ChannelConsumer> _logger;

    /// <summary>Cancelled when the host's shutdown timeout runs out: attempts still in flight are abandoned, unacknowledged.</summary>
    private readonly CancellationTokenSource _abort = new();

    /// <summary>Entries read and not yet acknowledged or left pending: bounds the work held in memory.</summary>
    private readonly SemaphoreSlim _window;

    /// <summary>Attempts in flight.</summary>
    private readonly SemaphoreSlim _concurrency;

    /// <summary>How an attempt waits for the channel's send rate limit (one delegate for all attempts); null when unlimited.</summary>
    private readonly Func<CancellationToken, ValueTask>? _sendPermit;

    /// <summary>Entries whose jobs this consumer is working on, so a reclaim pass does not start them twice.</summary>
    private readonly ConcurrentDictionary<string, byte> _entriesInFlight = new(StringComparer.Ordinal);

    /// <summary>Batches being claimed and jobs being attempted or recorded: what a stop waits for.</summary>
    private int _workRunning;

    private readonly TaskCompletionSource _workDrained = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private volatile bool _draining;
    private bool _hasDeliverer;
    private DeliveryStream? _stream;
    private OutcomeWriter? _writer;

    public ChannelConsumer(
        DeliveryChannel channel,
        IServiceScopeFactory scopes,
        JobStore store,
        ProviderCircuitBreaker breaker,
        IDatabase redis,
        IConfiguration configuration,
        WorkerIdentity identity,
        IOptions<WorkerOptions> options,
        TimeProvider timeProvider,
        ILogger<ChannelConsumer> logger)
    {
        _channel = channel;
        _scopes = scopes;
        _store = store;
        _breaker = breaker;
        _redis = redis;
        _configuration = configuration;
        _identity = identity;
        _options = options.Value;
        _outcomes = JobOutcomes.From(_options);
        _timeProvider = timeProvider;
        _logger = logger;
        _window = new SemaphoreSlim(InFlightBatches * _options.BatchSize);
        _concurrency = new SemaphoreSlim(_options.MaxConcurrencyFor(channel));
        var rateLimit = _options.SendRateLimitFor(channel);
        _sendPermit = rateLimit > 0 ? new SendRateLimiter(channel, rateLimit, redis, timeProvider, logger).AcquireAsync : null;
    }

    private string ChannelName => SnakeCaseEnum<DeliveryChannel>.ToName(_channel);

    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        await using (var scope = _scopes.CreateAsyncScope())
        {
            var deliverers = scope.ServiceProvider.GetServices<IChannelDeliverer>().Count(deliverer => deliverer.Channel == _channel);
            if (deliverers > 1)
            {
                throw new InvalidOperationException(
                    $"{deliverers} deliverers are registered for the {ChannelName} channel; register exactly one IChannelDeliverer per channel.");
            }
            _hasDeliverer = deliverers == 1;
        }
        if (!_hasDeliverer)
        {
            Log.NoDeliverer(_logger, ChannelName);
            return;
        }
        await base.StartAsync(cancellationToken);
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        if (!_hasDeliverer)
        {
            return;
        }
        // The host cancels this token when its shutdown timeout runs out: then in-flight attempts are abandoned.
        await using var registration = cancellationToken.Register(_abort.Cancel);
        await base.StopAsync(cancellationToken);
    }

    public override void Dispose()
    {
        base.Dispose();
        _abort.Dispose();
        _window.Dispose();
        _concurrency.Dispose();
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var blockingConnection = await ConnectForBlockingReadsAsync();
        _stream = new DeliveryStream(DeliveryStreams.For(_channel), _identity.Name, _redis, blockingConnection.GetDatabase());
        _writer = new OutcomeWriter(_store, _stream, _timeProvider, _logger);
        _writer.Start(_abort.Token);
        try
        {
            await EnsureGroupAsync(stoppingToken);
            Log.Consuming(_logger, _stream.Name, _stream.ConsumerName, _options.MaxConcurrencyFor(_channel), _options.SendRateLimitFor(_channel));
            var maintenance = RunMaintenanceAsync(stoppingToken);
            await ReadAsync(stoppingToken);
            await maintenance;
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        finally
        {
            await DrainAsync();
            await _writer.CompleteAsync();
            Log.Stopped(_logger, _stream.Name);
        }
    }

    private async Task<ConnectionMultiplexer> ConnectForBlockingReadsAsync()
    {
        // The same server as the shared client (its registration has checked the connection string is there).
        var options = ConfigurationOptions.Parse(_configuration.GetConnectionString(ResourceNames.Redis)!);
        options.AbortOnConnectFail = false;
        options.ClientName = $"{_identity.Name}-{ChannelName}-reader";
        // A blocked read is a healthy socket: give it its block time before declaring the connection dead.
        var timeoutMs = (int)(_options.ReadBlockTime + DeliveryStream.CommandTimeout).TotalMilliseconds;
        options.SyncTimeout = Math.Max(options.SyncTimeout, timeoutMs);
        options.ResponseTimeout = Math.Max(options.ResponseTimeout, timeoutMs);
        return await ConnectionMultiplexer.ConnectAsync(options);
    }

    private async Task EnsureGroupAsync(CancellationToken cancellationToken)
    {
        for (var failures = 1; ; failures++)
        {
            try
            {
                await _stream!.EnsureGroupAsync(cancellationToken);
                return;
            }
            catch (Exception exception) when (exception is RedisException or TimeoutException)
            {
                Log.GroupUnavailable(_logger, _stream!.Name, exception);
                await Task.Delay(FailureDelay.DelayAfter(failures), _timeProvider, cancellationToken);
            }
        }
    }

    private async Task ReadAsync(CancellationToken stoppingToken)
    {
        var failures = 0;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                var gate = _breaker.GateFor(_channel);
                if (gate.WaitUntil is { } until)
                {
                    // A provider this channel needs is not being called: leave the entries in the stream meanwhile.
                    var wait = until - _timeProvider.GetUtcNow();
                    await Task.Delay(wait > TimeSpan.Zero ? wait : TimeSpan.Zero, _timeProvider, stoppingToken);
                    continue;
                }
                if (gate.Verdict is { } verdict)
                {
                    await verdict.WaitAsync(stoppingToken);
                    continue;
                }

                // Half-open: one entry, to be the trial attempt.
                var slots = await AcquireSlotsAsync(gate.Probing ? 1 : _options.BatchSize, stoppingToken);
                IReadOnlyList<StreamEntry> entries;
                try
                {
                    entries = await _stream!.ReadNewAsync(slots, _options.ReadBlockTime, stoppingToken);
                }
                catch
                {
                    _window.Release(slots);
                    throw;
                }
                if (entries.Count < slots)
                {
                    _window.Release(slots - entries.Count);
                }
                if (entries.Count > 0)
                {
                    // Not awaited: the next read goes out while this batch is being claimed, so database round trips
                    // overlap instead of adding up; the window bounds how much is in hand.
                    BeginWork();
                    _ = DispatchInBackgroundAsync(entries);
                }
                failures = 0;
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception exception)
            {
                failures++;
                if (DeliveryStream.IsMissingGroup(exception))
                {
                    // Redis lost the stream (restarted empty, or flushed): Postgres still has every job, and the
                    // scheduler's stuck-job recovery re-enqueues them; meanwhile read whatever is appended anew.
                    Log.GroupMissing(_logger, _stream!.Name);
                    await EnsureGroupAsync(stoppingToken);
                    continue;
                }
                Log.ReadFailed(_logger, _stream!.Name, exception);
                await Task.Delay(FailureDelay.DelayAfter(failures), _timeProvider, stoppingToken);
            }
        }
    }

    /// <summary>Waits for one slot of the in-flight window, then takes as many more as are free, up to <paramref name="wanted"/>.</summary>
    private async Task<int> AcquireSlotsAsync(int wanted, CancellationToken cancellationToken)
    {
        await _window.WaitAsync(cancellationToken);
        return 1 + TakeFreeSlots(wanted - 1);
    }

    private int TakeFreeSlots(int wanted)
    {
        var taken = 0;
        while (taken < wanted && _window.Wait(0, CancellationToken.None))
        {
            taken++;
        }
        return taken;
    }

    private async Task DispatchInBackgroundAsync(IReadOnlyList<StreamEntry> entries)
    {
        try
        {
            await DispatchAsync(entries, reclaimed: false);
        }
        catch (Exception exception) when (exception is not OperationCanceledException || !_abort.IsCancellationRequested)
        {
            Log.DispatchFailed(_logger, entries.Count, _stream!.Name, exception);
        }
        catch (OperationCanceledException)
        {
            // Abandoned at shutdown: the entries stay pending.
        }
        finally
        {
            EndWork();
        }
    }

    /// <summary>
    /// Claims the jobs of entries just read or reclaimed (each holding one window slot) and starts an attempt for each job
    /// claimed; acknowledges at once the entries that need no work. Entries neither started nor acknowledged stay pending.
    /// </summary>
    private async Task DispatchAsync(IReadOnlyList<StreamEntry> entries, bool reclaimed)
    {
        var stream = _stream!;
        var started = 0;
        try
        {
            var acknowledge = new List<string>();
            var byJob = new Dictionary<Guid, (StreamEntry Entry, DeliveryMessage Message)>();
            foreach (var entry in entries)
            {
                if (reclaimed && _entriesInFlight.ContainsKey(entry.Id))
                {
                    // This consumer is still on it (an attempt that outlasted the idle time).
                    continue;
                }
                if (entry.Fields is null)
                {
                    acknowledge.Add(entry.Id);
                    continue;
                }
                DeliveryMessage message;
                try
                {
                    message = DeliveryMessage.FromStreamFields(entry.Fields);
                }
                catch (FormatException exception)
                {
                    Log.MalformedEntry(_logger, entry.Id, stream.Name, exception);
                    acknowledge.Add(entry.Id);
                    continue;
                }
                if (message.Channel != _channel || !byJob.TryAdd(message.JobId, (entry, message)))
                {
                    // Another channel's job has no business here; a second entry of a job in the same batch adds nothing.
                    Log.EntrySkipped(_logger, entry.Id, stream.Name, message.JobId,
                        message.Channel != _channel ? $"it is for channel {SnakeCaseEnum<DeliveryChannel>.ToName(message.Channel)}" : "another entry of the job is in the same batch");
                    acknowledge.Add(entry.Id);
                }
            }

            if (byJob.Count > 0)
            {
                if (await TryClaimAsync(byJob.Keys) is not { } claim)
                {
                    // Left pending: reclaimed once idle, by which time the database may answer again.
                    return;
                }
                foreach (var job in claim.Claimed)
                {
                    var (entry, message) = byJob[job.Job.Id];
                    _entriesInFlight[entry.Id] = 0;
                    BeginWork();
                    started++;
                    _ = ProcessAsync(job, entry, message);
                }
                foreach (var job in claim.Unclaimed)
                {
                    var entryId = byJob[job.JobId].Entry.Id;
                    if (job.Status == DeliveryJobStatus.Processing)
                    {
                        // Another attempt holds a live lease. If it is this entry's own (its consumer died), acknowledging
                        // would lose the job's only entry: leave it pending, to be looked at again once idle, when that
                        // attempt has finished (acknowledged then) or its lease has run out (taken over then).
                        Log.LeftPending(_logger, entryId, job.JobId, job.UpdatedAt);
                        continue;
                    }
                    Log.EntrySkipped(_logger, entryId, stream.Name, job.JobId,
                        job.Status is { } status ? $"the job is {SnakeCaseEnum<DeliveryJobStatus>.ToName(status)}" : "the job does not exist");
                    acknowledge.Add(entryId);
                }
            }

            try
            {
                await stream.AcknowledgeAsync(acknowledge, _abort.Token);
            }
            catch (Exception exception) when (exception is RedisException or TimeoutException)
            {
                Log.AcknowledgeFailed(_logger, acknowledge.Count, stream.Name, exception);
            }
        }
        finally
        {
            // The jobs started release their own slots when they end.
            if (entries.Count > started)
            {
                _window.Release(entries.Count - started);
            }
        }
    }

    private async Task<(List<ClaimedJob> Claimed, List<UnclaimedJob> Unclaimed)?> TryClaimAsync(IReadOnlyCollection<Guid> jobIds)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await _store.ClaimAsync(jobIds, _timeProvider.GetUtcNow(), _options.Lease, _abort.Token);
            }
            catch (Exception exception) when (exception is not OperationCanceledException || !_abort.IsCancellationRequested)
            {
                if (attempt == ClaimAttempts)
                {
                    Log.ClaimFailed(_logger, jobIds.Count, _stream!.Name, exception);
                    return null;
                }
                await Task.Delay(FailureDelay.DelayAfter(attempt), _timeProvider, _abort.Token);
            }
        }
    }

    private async Task ProcessAsync(ClaimedJob claimed, StreamEntry entry, DeliveryMessage message)
    {
        var abort = _abort.Token;
        ActivityContext.TryParse(message.TraceParent, message.TraceState, isRemote: true, out var parent);
        using var activity = WorkerTelemetry.ActivitySource.StartActivity($"process {_stream!.Name}", ActivityKind.Consumer, parent);
        activity?.SetTag("messaging.system", "redis");
        activity?.SetTag("messaging.operation.type", "process");
        activity?.SetTag("messaging.destination.name", _stream.Name);
        activity?.SetTag("messaging.consumer.group.name", DeliveryStreams.ConsumerGroup);
        activity?.SetTag("messaging.message.id", entry.Id);
        activity?.SetTag("notifications.job.id", claimed.Job.Id.ToString("D"));
        activity?.SetTag("notifications.channel", ChannelName);
        activity?.SetTag("notifications.attempt", claimed.Job.Attempts + 1);
        try
        {
            // Yield first: the reader goes on dispatching the rest of its batch while this job runs.
            await Task.Yield();
            if (await AttemptAsync(claimed, message, abort) is not var (outcome, provider))
            {
                Log.ClaimLost(_logger, claimed.Job.Id, entry.Id);
                return;
            }
            activity?.SetTag("notifications.outcome", outcome.Kind.ToString());
            activity?.SetTag("notifications.provider", provider);
            if (await _writer!.WriteAsync(outcome, entry.Id))
            {
                WorkerMetrics.RecordOutcome(outcome, provider);
                Log.Recorded(_logger, claimed.Job.Id, outcome.Kind, provider, entry.Id);
            }
            else
            {
                Log.ClaimLost(_logger, claimed.Job.Id, entry.Id);
            }
        }
        catch (OperationCanceledException) when (abort.IsCancellationRequested)
        {
            activity?.SetStatus(ActivityStatusCode.Error, "Abandoned at shutdown");
            Log.Abandoned(_logger, claimed.Job.Id, entry.Id);
        }
        catch (Exception exception)
        {
            activity?.SetStatus(ActivityStatusCode.Error, exception.Message);
            Log.JobFailed(_logger, claimed.Job.Id, entry.Id, exception);
        }
        finally
        {
            _entriesInFlight.TryRemove(entry.Id, out _);
            _window.Release();
            EndWork();
        }
    }

    /// <summary>
    /// Attempts the job (or holds it back while its provider's circuit is open) and works out its outcome; null when the
    /// job waited so long for its turn that its lease ran out and another worker took it over.
    /// </summary>
    private async Task<(JobOutcome Outcome, string? Provider)?> AttemptAsync(ClaimedJob claimed, DeliveryMessage message, CancellationToken abort)
    {
        var (traceParent, traceState) = Activity.Current is { } current
            ? (current.Id, current.TraceStateString)
            : (message.TraceParent, message.TraceState);
        await _concurrency.WaitAsync(abort);
        try
        {
            // An attempt may run for half the lease; one that starts late renews the lease first, so the claim still
            // holds when its outcome is written.
            var waited = _timeProvider.GetUtcNow() - claimed.ClaimedAt;
            if (waited >= _options.Lease / 4)
            {
                if (await _store.RenewLeaseAsync(claimed.Job.Id, claimed.ClaimedAt, _timeProvider.GetUtcNow(), abort) is not { } renewedAt)
                {
                    return null;
                }
                Log.LeaseRenewed(_logger, claimed.Job.Id, waited);
                claimed = claimed with { ClaimedAt = renewedAt };
            }
            while (true)
            {
                switch (_breaker.Decide(_channel))
                {
                    case CircuitDecision.Blocked blocked:
                        Log.Held(_logger, claimed.Job.Id, blocked.Provider, blocked.Until);
                        return (JobOutcomes.Held(claimed.Job, claimed.ClaimedAt, blocked.Until, _timeProvider.GetUtcNow(), traceParent, traceState),
                            blocked.Provider);

                    case CircuitDecision.AwaitTrial awaiting:
                        await awaiting.Verdict.WaitAsync(abort);
                        continue;

                    case CircuitDecision.Allowed allowed:
                        var startedAt = _timeProvider.GetTimestamp();
                        DeliveryResult? result = null;
                        try
                        {
                            result = await DeliverAsync(claimed, abort);
                        }
                        finally
                        {
                            // A failure of the worker itself says nothing about a provider.
                            _breaker.Record(_channel, allowed, result?.Provider == WorkerProvider ? null : result);
                        }
                        var duration = _timeProvider.GetElapsedTime(startedAt);
                        WorkerMetrics.RecordAttempt(_channel, result.Provider, result.Outcome, duration);
                        return (_outcomes.After(claimed.Job, claimed.ClaimedAt, result, duration, _timeProvider.GetUtcNow(), traceParent, traceState, Random.Shared),
                            result.Provider);
                }
            }
        }
        finally
        {
            _concurrency.Release();
        }
    }

    /// <summary>
    /// One attempt through the channel's deliverer, resolved from a scope of its own (so a deliverer may use scoped
    /// services such as the DbContext while other attempts run). An attempt still running at half the lease is cancelled,
    /// so it never outlives the claim.
    /// </summary>
    private async Task<DeliveryResult> DeliverAsync(ClaimedJob claimed, CancellationToken abort)
    {
        await using var scope = _scopes.CreateAsyncScope();
        var deliverer = scope.ServiceProvider.GetServices<IChannelDeliverer>().First(candidate => candidate.Channel == _channel);
        var attempt = new DeliveryAttempt(claimed.Job, claimed.Job.Attempts + 1)
        {
            Notification = claimed.Notification,
            Recipient = claimed.User,
            SendPermit = _sendPermit,
        };
        var attemptTimeout = _options.Lease / 2;
        using var timeout = new CancellationTokenSource(attemptTimeout, _timeProvider);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(abort, timeout.Token);
        try
        {
            return await deliverer.DeliverAsync(attempt, linked.Token);
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested && !abort.IsCancellationRequested)
        {
            Log.AttemptTimedOut(_logger, claimed.Job.Id, attemptTimeout);
            return new DeliveryResult.TransientFailure(WorkerProvider, $"The attempt did not finish within {attemptTimeout:c} and was cancelled.");
        }
        catch (Exception exception) when (exception is not OperationCanceledException || !abort.IsCancellationRequested)
        {
            // Deliverers report provider failures as results; an exception is a fault of the worker, retried like a
            // transient failure so that a persistent one ends in the dead-letter queue rather than in a loop.
            Log.DelivererThrew(_logger, claimed.Job.Id, exception);
            return new DeliveryResult.TransientFailure(WorkerProvider, $"{exception.GetType().Name}: {exception.Message}");
        }
    }

    private async Task RunMaintenanceAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(_options.ReclaimInterval, _timeProvider);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                try
                {
                    await _stream!.ReportAliveAsync(_options.ReclaimInterval * 4, stoppingToken);
                    await ReclaimAsync(stoppingToken);
                    if (await _stream.GetGroupStateAsync(stoppingToken) is { } state)
                    {
                        WorkerMetrics.RecordStreamState(_stream.Name, state.Lag, state.Pending);
                        await _stream.TrimAcknowledgedAsync(state, stoppingToken);
                    }
                    if (await _stream.RemoveEndedConsumersAsync(_options.IdleConsumerRemoval, stoppingToken) is { Count: > 0 } removed)
                    {
                        Log.IdleConsumersRemoved(_logger, removed.Count, _stream.Name, _options.IdleConsumerRemoval, string.Join(", ", removed));
                    }
                    _breaker.ReportNotClosed();
                }
                catch (Exception exception) when (exception is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
                {
                    Log.MaintenanceFailed(_logger, _stream!.Name, exception);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>
    /// One pass over the group's pending entries, claiming those idle on any consumer for long enough. Skipped while the
    /// in-flight window is full: the work already in hand comes first, and the next pass finds the entries still idle.
    /// </summary>
    private async Task ReclaimAsync(CancellationToken stoppingToken)
    {
        var cursor = "0-0";
        do
        {
            var slots = TakeFreeSlots(_options.BatchSize);
            if (slots == 0)
            {
                return;
            }
            IReadOnlyList<StreamEntry> entries;
            try
            {
                (cursor, entries) = await _stream!.ReclaimAsync(_options.ReclaimMinIdle, cursor, slots, stoppingToken);
            }
            catch
            {
                _window.Release(slots);
                throw;
            }
            if (entries.Count < slots)
            {
                _window.Release(slots - entries.Count);
            }
            if (entries.Count > 0)
            {
                Log.Reclaimed(_logger, entries.Count, _stream.Name);
                await DispatchAsync(entries, reclaimed: true);
            }
        }
        while (cursor != "0-0" && !stoppingToken.IsCancellationRequested);
    }

    private void BeginWork() => Interlocked.Increment(ref _workRunning);

    private void EndWork()
    {
        if (Interlocked.Decrement(ref _workRunning) == 0 && _draining)
        {
            _workDrained.TrySetResult();
        }
    }

    /// <summary>Waits until every started attempt has been recorded (or abandoned when the shutdown timeout ran out).</summary>
    private async Task DrainAsync()
    {
        _draining = true;
        if (Volatile.Read(ref _workRunning) == 0)
        {
            _workDrained.TrySetResult();
        }
        await _workDrained.Task;
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 5000, Level = LogLevel.Information,
            Message = "Consuming {Stream} as {Consumer}: up to {MaxConcurrency} attempts at once, send rate limit {SendRateLimit}/s (0 = none)")]
        public static partial void Consuming(ILogger logger, string stream, string consumer, int maxConcurrency, int sendRateLimit);

        [LoggerMessage(EventId = 5001, Level = LogLevel.Information, Message = "No deliverer is registered for channel {Channel}; its stream is not consumed")]
        public static partial void NoDeliverer(ILogger logger, string channel);

        [LoggerMessage(EventId = 5002, Level = LogLevel.Information, Message = "Stopped consuming {Stream}")]
        public static partial void Stopped(ILogger logger, string stream);

        [LoggerMessage(EventId = 5003, Level = LogLevel.Warning, Message = "Cannot create the consumer group of {Stream}; retrying")]
        public static partial void GroupUnavailable(ILogger logger, string stream, Exception exception);

        [LoggerMessage(EventId = 5004, Level = LogLevel.Warning, Message = "The consumer group of {Stream} is gone (Redis restarted empty?); creating it again")]
        public static partial void GroupMissing(ILogger logger, string stream);

        [LoggerMessage(EventId = 5005, Level = LogLevel.Warning, Message = "Reading {Stream} failed; retrying")]
        public static partial void ReadFailed(ILogger logger, string stream, Exception exception);

        [LoggerMessage(EventId = 5006, Level = LogLevel.Error, Message = "Entry {EntryId} of {Stream} is malformed; acknowledged and dropped")]
        public static partial void MalformedEntry(ILogger logger, string entryId, string stream, Exception exception);

        [LoggerMessage(EventId = 5007, Level = LogLevel.Debug, Message = "Entry {EntryId} of {Stream} (job {JobId}) acknowledged without an attempt: {Reason}")]
        public static partial void EntrySkipped(ILogger logger, string entryId, string stream, Guid jobId, string reason);

        [LoggerMessage(EventId = 5008, Level = LogLevel.Debug,
            Message = "Entry {EntryId}: job {JobId} is being processed under a live lease (claimed at {ClaimedAt:O}); the entry stays pending")]
        public static partial void LeftPending(ILogger logger, string entryId, Guid jobId, DateTimeOffset? claimedAt);

        [LoggerMessage(EventId = 5009, Level = LogLevel.Warning, Message = "Could not acknowledge {Count} entries of {Stream}; they are reclaimed and skipped later")]
        public static partial void AcknowledgeFailed(ILogger logger, int count, string stream, Exception exception);

        [LoggerMessage(EventId = 5010, Level = LogLevel.Error,
            Message = "Could not claim the {Count} jobs of a batch of {Stream}; their entries stay pending and are reclaimed later")]
        public static partial void ClaimFailed(ILogger logger, int count, string stream, Exception exception);

        [LoggerMessage(EventId = 5011, Level = LogLevel.Debug, Message = "Job {JobId}: {Outcome} via {Provider}; entry {EntryId} acknowledged")]
        public static partial void Recorded(ILogger logger, Guid jobId, OutcomeKind outcome, string? provider, string entryId);

        [LoggerMessage(EventId = 5012, Level = LogLevel.Warning,
            Message = "Job {JobId}: its lease ran out and another worker took it over; this attempt's outcome is dropped and entry {EntryId} left to that worker")]
        public static partial void ClaimLost(ILogger logger, Guid jobId, string entryId);

        [LoggerMessage(EventId = 5013, Level = LogLevel.Information, Message = "Job {JobId}: attempt abandoned at shutdown; entry {EntryId} stays pending")]
        public static partial void Abandoned(ILogger logger, Guid jobId, string entryId);

        [LoggerMessage(EventId = 5014, Level = LogLevel.Error, Message = "Job {JobId} failed in the worker; entry {EntryId} stays pending and is reclaimed later")]
        public static partial void JobFailed(ILogger logger, Guid jobId, string entryId, Exception exception);

        [LoggerMessage(EventId = 5015, Level = LogLevel.Debug, Message = "Job {JobId} held back: the circuit of provider {Provider} is open until {Until:O}")]
        public static partial void Held(ILogger logger, Guid jobId, string provider, DateTimeOffset until);

        [LoggerMessage(EventId = 5016, Level = LogLevel.Warning, Message = "Job {JobId}: the attempt did not finish within {Timeout} and was cancelled")]
        public static partial void AttemptTimedOut(ILogger logger, Guid jobId, TimeSpan timeout);

        [LoggerMessage(EventId = 5017, Level = LogLevel.Error, Message = "Job {JobId}: the deliverer threw; counted as a transient failure")]
        public static partial void DelivererThrew(ILogger logger, Guid jobId, Exception exception);

        [LoggerMessage(EventId = 5018, Level = LogLevel.Information, Message = "Reclaimed {Count} idle entries of {Stream}")]
        public static partial void Reclaimed(ILogger logger, int count, string stream);

        [LoggerMessage(EventId = 5020, Level = LogLevel.Error, Message = "A batch of {Count} entries of {Stream} could not be dispatched; they stay pending")]
        public static partial void DispatchFailed(ILogger logger, int count, string stream, Exception exception);

        [LoggerMessage(EventId = 5021, Level = LogLevel.Debug, Message = "Job {JobId} waited {Waited} for its attempt; its lease was renewed")]
        public static partial void LeaseRenewed(ILogger logger, Guid jobId, TimeSpan waited);

        [LoggerMessage(EventId = 5022, Level = LogLevel.Information,
            Message = "Removed {Count} consumers of ended workers from {Stream} (not running, nothing pending, silent for over {Idle}): {Consumers}")]
        public static partial void IdleConsumersRemoved(ILogger logger, int count, string stream, TimeSpan idle, string consumers);

        [LoggerMessage(EventId = 5019, Level = LogLevel.Warning, Message = "Maintenance of {Stream} (reclaim, lag, trim, idle consumers) failed; retrying at the next interval")]
        public static partial void MaintenanceFailed(ILogger logger, string stream, Exception exception);
    }
}
