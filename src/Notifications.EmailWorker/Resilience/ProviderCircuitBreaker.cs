using Microsoft.Extensions.Options;
using Notifications.Domain.Model;
using Notifications.Domain.Redis;
using Notifications.Domain.Resilience;
using Notifications.EmailWorker.Consuming;
using Notifications.EmailWorker.Delivery;
using StackExchange.Redis;

namespace Notifications.EmailWorker.Resilience;

/// <summary>What the consumer may do with a job of a channel, given the circuits of the providers that channel uses.</summary>
internal abstract record CircuitDecision
{
    /// <summary>Attempt it. <see cref="Trials"/> names the half-open circuits this attempt is the trial of.</summary>
    public sealed record Allowed(IReadOnlyList<string> Trials) : CircuitDecision;

    /// <summary>Do not attempt it: <see cref="Provider"/> is not being called until <see cref="Until"/>.</summary>
    public sealed record Blocked(string Provider, DateTimeOffset Until) : CircuitDecision;

    /// <summary>A trial attempt is deciding whether the circuit closes; ask again once <see cref="Verdict"/> completes.</summary>
    public sealed record AwaitTrial(Task Verdict) : CircuitDecision;
}

/// <summary>When a channel's reader may read: now, after <see cref="WaitUntil"/>, or once <see cref="Verdict"/> is known.</summary>
/// <param name="Probing">A circuit is half-open with no trial yet: read one entry, to be the trial.</param>
internal readonly record struct ReaderGate(DateTimeOffset? WaitUntil, Task? Verdict, bool Probing);

/// <summary>
/// One circuit breaker per provider (named by the <see cref="DeliveryResult.Provider"/> results report), shared by the
/// worker's channels. Closed, it samples attempts in windows of <see cref="CircuitBreakerOptions.SamplingDuration"/> and
/// opens when enough of them failed transiently; open, the channels that use the provider attempt nothing until the break
/// is over; then the next attempt is a trial: success closes it, a transient failure opens it for another break.
/// A channel learns which providers it uses from its own results, so it is gated by those circuits only.
/// </summary>
/// <remarks>
/// Each worker process has its own circuits: a provider that fails is seen failing by every replica soon enough, and the
/// state needs no coordination. Each state change (and, periodically, every circuit not closed) is written to
/// <see cref="RedisKeys.ProviderCircuit"/> for the admin metrics, fire-and-forget: reporting never slows delivery.
/// </remarks>
internal sealed partial class ProviderCircuitBreaker(
    IOptions<WorkerOptions> options,
    IDatabase redis,
    WorkerIdentity identity,
    TimeProvider timeProvider,
    ILogger<ProviderCircuitBreaker> logger)
{
    /// <summary>How long a reported state outlives its last refresh (beyond the end of a break).</summary>
    private static readonly TimeSpan ReportTimeToLive = TimeSpan.FromMinutes(5);

    private readonly Lock _gate = new();
    private readonly Dictionary<string, Circuit> _circuits = new(StringComparer.Ordinal);
    private readonly Dictionary<DeliveryChannel, HashSet<string>> _providersByChannel = [];

    private CircuitBreakerOptions Settings => options.Value.CircuitBreaker;

    public CircuitDecision Decide(DeliveryChannel channel)
    {
        var now = timeProvider.GetUtcNow();
        List<Circuit> trials = [];
        lock (_gate)
        {
            foreach (var circuit in CircuitsOf(channel))
            {
                switch (circuit.Status)
                {
                    case CircuitStatus.Open when now < circuit.OpenUntil:
                        return new CircuitDecision.Blocked(circuit.Provider, circuit.OpenUntil!.Value);
                    case CircuitStatus.HalfOpen when circuit.Verdict is { } verdict:
                        return new CircuitDecision.AwaitTrial(verdict.Task);
                    case CircuitStatus.Open or CircuitStatus.HalfOpen:
                        trials.Add(circuit);
                        break;
                }
            }
            foreach (var circuit in trials)
            {
                if (circuit.Status == CircuitStatus.Open)
                {
                    circuit.Enter(CircuitStatus.HalfOpen, now, until: null);
                    Log.HalfOpened(logger, circuit.Provider);
                    Report(circuit, now);
                }
                circuit.Verdict = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            }
        }
        return new CircuitDecision.Allowed([.. trials.Select(circuit => circuit.Provider)]);
    }

    /// <summary>
    /// Counts an attempt's result against its provider's circuit. <paramref name="result"/> is null when the attempt
    /// ended without one (it threw, or was cancelled): it tells nothing about a provider, but frees its trials.
    /// </summary>
    public void Record(DeliveryChannel channel, CircuitDecision.Allowed decision, DeliveryResult? result)
    {
        var now = timeProvider.GetUtcNow();
        lock (_gate)
        {
            if (result is not null)
            {
                if (!_providersByChannel.TryGetValue(channel, out var providers))
                {
                    _providersByChannel[channel] = providers = new HashSet<string>(StringComparer.Ordinal);
                }
                providers.Add(result.Provider);
                if (!_circuits.TryGetValue(result.Provider, out var circuit))
                {
                    _circuits[result.Provider] = circuit = new Circuit(result.Provider, now);
                }
                var failed = result is DeliveryResult.TransientFailure;
                if (decision.Trials.Contains(result.Provider))
                {
                    if (failed)
                    {
                        Log.TrialFailed(logger, circuit.Provider, Settings.BreakDuration);
                        Open(circuit, now);
                    }
                    else
                    {
                        circuit.Enter(CircuitStatus.Closed, now, until: null);
                        Log.Closed(logger, circuit.Provider);
                        Report(circuit, now);
                    }
                    circuit.EndTrial();
                }
                else if (circuit.Status == CircuitStatus.Closed && circuit.Sample(now, failed, Settings) is { } ratio)
                {
                    Log.Opened(logger, circuit.Provider, ratio, Settings.BreakDuration);
                    Open(circuit, now);
                }
            }
            foreach (var provider in decision.Trials)
            {
                if (provider != result?.Provider)
                {
                    // No verdict on this one: let the next attempt be its trial.
                    _circuits[provider].EndTrial();
                }
            }
        }
    }

    /// <summary>Whether and when a channel's reader should read.</summary>
    public ReaderGate GateFor(DeliveryChannel channel)
    {
        var now = timeProvider.GetUtcNow();
        var probing = false;
        lock (_gate)
        {
            foreach (var circuit in CircuitsOf(channel))
            {
                switch (circuit.Status)
                {
                    case CircuitStatus.Open when now < circuit.OpenUntil:
                        return new ReaderGate(circuit.OpenUntil, null, Probing: false);
                    case CircuitStatus.HalfOpen when circuit.Verdict is { } verdict:
                        return new ReaderGate(null, verdict.Task, Probing: false);
                    case CircuitStatus.Open or CircuitStatus.HalfOpen:
                        probing = true;
                        break;
                }
            }
        }
        return new ReaderGate(null, null, probing);
    }

    /// <summary>Every provider's circuit as this worker sees it.</summary>
    public IReadOnlyList<ProviderCircuitState> States()
    {
        lock (_gate)
        {
            return [.. _circuits.Values.OrderBy(circuit => circuit.Provider, StringComparer.Ordinal).Select(ToState)];
        }
    }

    /// <summary>Writes every circuit that is not closed to Redis again, so its report does not expire while it lasts.</summary>
    public void ReportNotClosed()
    {
        var now = timeProvider.GetUtcNow();
        lock (_gate)
        {
            foreach (var circuit in _circuits.Values.Where(circuit => circuit.Status != CircuitStatus.Closed))
            {
                Report(circuit, now);
            }
        }
    }

    private IEnumerable<Circuit> CircuitsOf(DeliveryChannel channel) =>
        _providersByChannel.TryGetValue(channel, out var providers) ? providers.Select(provider => _circuits[provider]) : [];

    private void Open(Circuit circuit, DateTimeOffset now)
    {
        // Whole milliseconds, so the held jobs' rows (microseconds in Postgres) and the report show the same instant.
        var until = now + Settings.BreakDuration;
        circuit.Enter(CircuitStatus.Open, now, until.AddTicks(-(until.Ticks % TimeSpan.TicksPerMillisecond)));
        Report(circuit, now);
    }

    private void Report(Circuit circuit, DateTimeOffset now)
    {
        var state = ToState(circuit);
        var timeToLive = (state.Until is { } until && until > now ? until - now : TimeSpan.Zero) + ReportTimeToLive;
        // Fire-and-forget: StackExchange.Redis neither waits for nor throws on it.
        redis.StringSetAsync(RedisKeys.ProviderCircuit(circuit.Provider), state.ToJson(), timeToLive, flags: CommandFlags.FireAndForget);
    }

    private ProviderCircuitState ToState(Circuit circuit) => new(
        circuit.Provider,
        circuit.Status switch
        {
            CircuitStatus.Open => ProviderCircuitState.Open,
            CircuitStatus.HalfOpen => ProviderCircuitState.HalfOpen,
            _ => ProviderCircuitState.Closed,
        },
        circuit.Since,
        circuit.OpenUntil,
        identity.Name);

    private enum CircuitStatus
    {
        Closed,
        Open,
        HalfOpen,
    }

    private sealed class Circuit(string provider, DateTimeOffset now)
    {
        public string Provider { get; } = provider;
        public CircuitStatus Status { get; private set; } = CircuitStatus.Closed;
        public DateTimeOffset Since { get; private set; } = now;
        public DateTimeOffset? OpenUntil { get; private set; }

        /// <summary>Set while a trial attempt is in flight; completes when it ends.</summary>
        public TaskCompletionSource? Verdict { get; set; }

        private DateTimeOffset _windowStart = now;
        private int _attempts;
        private int _failures;

        public void Enter(CircuitStatus status, DateTimeOffset now, DateTimeOffset? until)
        {
            Status = status;
            Since = now;
            OpenUntil = until;
            _windowStart = now;
            _attempts = 0;
            _failures = 0;
        }

        public void EndTrial()
        {
            Verdict?.TrySetResult();
            Verdict = null;
        }

        /// <summary>Counts one attempt in the current sampling window; returns the failure ratio when it calls for opening.</summary>
        public double? Sample(DateTimeOffset now, bool failed, CircuitBreakerOptions settings)
        {
            if (now - _windowStart >= settings.SamplingDuration)
            {
                _windowStart = now;
                _attempts = 0;
                _failures = 0;
            }
            _attempts++;
            _failures += failed ? 1 : 0;
            var ratio = (double)_failures / _attempts;
            return _attempts >= settings.MinimumThroughput && ratio >= settings.FailureRatio ? ratio : null;
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 5100, Level = LogLevel.Warning,
            Message = "Circuit of provider {Provider} opened: {FailureRatio:P0} of recent attempts failed; no calls for {BreakDuration}")]
        public static partial void Opened(ILogger logger, string provider, double failureRatio, TimeSpan breakDuration);

        [LoggerMessage(EventId = 5101, Level = LogLevel.Information, Message = "Circuit of provider {Provider} half-open: the next attempt is a trial")]
        public static partial void HalfOpened(ILogger logger, string provider);

        [LoggerMessage(EventId = 5103, Level = LogLevel.Warning,
            Message = "Circuit of provider {Provider} opened again: the trial attempt failed; no calls for {BreakDuration}")]
        public static partial void TrialFailed(ILogger logger, string provider, TimeSpan breakDuration);

        [LoggerMessage(EventId = 5102, Level = LogLevel.Information, Message = "Circuit of provider {Provider} closed: the trial attempt succeeded")]
        public static partial void Closed(ILogger logger, string provider);
    }
}
