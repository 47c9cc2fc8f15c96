using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Notifications.Domain.Model;
using Notifications.Domain.Resilience;
using Notifications.EmailWorker.Consuming;
using Notifications.EmailWorker.Delivery;
using Notifications.EmailWorker.Resilience;
using StackExchange.Redis;

namespace Notifications.EmailWorker.Tests.Resilience;

/// <summary>The breaker's state machine on a controlled clock (it reports to the collection's Redis, fire-and-forget).</summary>
[Collection(WorkerTestCollection.Name)]
public sealed class ProviderCircuitBreakerTests : IDisposable
{
    private const DeliveryChannel Email = DeliveryChannel.Email;
    private static readonly DeliveryResult Failure = new DeliveryResult.TransientFailure("resend", "503", null, 503);
    private static readonly DeliveryResult Success = new DeliveryResult.Sent("resend", "id");
    private static readonly TimeSpan BreakDuration = TimeSpan.FromSeconds(30);
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 5, 1, 12, 0, 0, TimeSpan.Zero));
    private readonly ConnectionMultiplexer _redis;
    private readonly ProviderCircuitBreaker _breaker;

    public ProviderCircuitBreakerTests(TestServers servers)
    {
        _redis = ConnectionMultiplexer.Connect(servers.Redis.ConnectionString);
        var options = new WorkerOptions
        {
            CircuitBreaker = new CircuitBreakerOptions
            {
                FailureRatio = 0.5,
                MinimumThroughput = 4,
                SamplingDuration = TimeSpan.FromSeconds(10),
                BreakDuration = BreakDuration,
            },
        };
        _breaker = new ProviderCircuitBreaker(Options.Create(options), _redis.GetDatabase(), new WorkerIdentity(), _time,
            NullLogger<ProviderCircuitBreaker>.Instance);
    }

    public void Dispose() => _redis.Dispose();

    [Fact]
    public void AChannelWithNoResultsYet_IsNeverHeldBack()
    {
        Assert.Empty(Assert.IsType<CircuitDecision.Allowed>(_breaker.Decide(Email)).Trials);
        Assert.Equal(new ReaderGate(null, null, false), _breaker.GateFor(Email));
    }

    [Fact]
    public void FailuresBelowTheMinimumThroughput_DoNotOpen()
    {
        RecordMany(Failure, 3);

        Assert.IsType<CircuitDecision.Allowed>(_breaker.Decide(Email));
        Assert.Equal(ProviderCircuitState.Closed, Assert.Single(_breaker.States()).State);
    }

    [Fact]
    public void FailureRatioBelowTheThreshold_DoesNotOpen()
    {
        RecordMany(Success, 3);
        RecordMany(Failure, 2);

        Assert.IsType<CircuitDecision.Allowed>(_breaker.Decide(Email));
    }

    [Fact]
    public void EnoughFailures_OpenForTheBreak_BlockingTheChannelsJobsAndItsReader()
    {
        RecordMany(Success, 2);
        RecordMany(Failure, 2);

        var blocked = Assert.IsType<CircuitDecision.Blocked>(_breaker.Decide(Email));
        Assert.Equal(("resend", _time.GetUtcNow() + BreakDuration), (blocked.Provider, blocked.Until));
        Assert.Equal(_time.GetUtcNow() + BreakDuration, _breaker.GateFor(Email).WaitUntil);
        var state = Assert.Single(_breaker.States());
        Assert.Equal((ProviderCircuitState.Open, _time.GetUtcNow()), (state.State, state.Since));
        // Another channel, which never used the provider, goes on.
        Assert.IsType<CircuitDecision.Allowed>(_breaker.Decide(DeliveryChannel.InApp));
    }

    [Fact]
    public void OldFailures_LeaveTheSamplingWindow()
    {
        RecordMany(Failure, 3);
        _time.Advance(TimeSpan.FromSeconds(11));
        RecordMany(Failure, 1);

        Assert.IsType<CircuitDecision.Allowed>(_breaker.Decide(Email));
    }

    [Fact]
    public void AfterTheBreak_OneTrialGoes_OthersAwaitItsVerdict_AndSuccessCloses()
    {
        Open();
        _time.Advance(BreakDuration);
        Assert.True(_breaker.GateFor(Email).Probing);

        var trial = Assert.IsType<CircuitDecision.Allowed>(_breaker.Decide(Email));
        Assert.Equal(["resend"], trial.Trials);
        var waiting = Assert.IsType<CircuitDecision.AwaitTrial>(_breaker.Decide(Email));
        Assert.Same(waiting.Verdict, _breaker.GateFor(Email).Verdict);
        Assert.Equal(ProviderCircuitState.HalfOpen, Assert.Single(_breaker.States()).State);

        _breaker.Record(Email, trial, Success);

        Assert.True(waiting.Verdict.IsCompleted);
        Assert.Empty(Assert.IsType<CircuitDecision.Allowed>(_breaker.Decide(Email)).Trials);
        Assert.Equal(ProviderCircuitState.Closed, Assert.Single(_breaker.States()).State);
    }

    [Fact]
    public void AFailedTrial_OpensForAnotherBreak()
    {
        Open();
        _time.Advance(BreakDuration);
        var trial = Assert.IsType<CircuitDecision.Allowed>(_breaker.Decide(Email));

        _breaker.Record(Email, trial, Failure);

        Assert.Equal(_time.GetUtcNow() + BreakDuration, Assert.IsType<CircuitDecision.Blocked>(_breaker.Decide(Email)).Until);
    }

    [Fact]
    public void ATrialThatEndedWithoutAResult_LetsTheNextAttemptBeTheTrial()
    {
        Open();
        _time.Advance(BreakDuration);
        var trial = Assert.IsType<CircuitDecision.Allowed>(_breaker.Decide(Email));

        _breaker.Record(Email, trial, result: null);

        Assert.Equal(["resend"], Assert.IsType<CircuitDecision.Allowed>(_breaker.Decide(Email)).Trials);
    }

    [Fact]
    public async Task StateChanges_AreReportedToRedis()
    {
        Open();

        var key = Notifications.Domain.Redis.RedisKeys.ProviderCircuit("resend");
        var database = _redis.GetDatabase();
        var deadline = DateTimeOffset.UtcNow.AddSeconds(30);
        RedisValue value;
        while ((value = await database.StringGetAsync(key)).IsNull || ProviderCircuitState.FromJson(value!).Since != _time.GetUtcNow())
        {
            Assert.True(DateTimeOffset.UtcNow < deadline, "The open circuit was not reported.");
            await Task.Delay(20, TestContext.Current.CancellationToken);
        }
        var report = ProviderCircuitState.FromJson(value!);
        Assert.Equal((ProviderCircuitState.Open, _time.GetUtcNow() + BreakDuration), (report.State, report.Until));
        Assert.False(string.IsNullOrEmpty(report.ReportedBy));
    }

    private void Open()
    {
        RecordMany(Failure, 4);
        Assert.IsType<CircuitDecision.Blocked>(_breaker.Decide(Email));
    }

    private void RecordMany(DeliveryResult result, int count)
    {
        for (var index = 0; index < count; index++)
        {
            _breaker.Record(Email, Assert.IsType<CircuitDecision.Allowed>(_breaker.Decide(Email)), result);
        }
    }
}
