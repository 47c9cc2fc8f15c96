using System.Collections.Concurrent;
using System.Diagnostics;
using Notifications.Domain.Model;
using Notifications.EmailWorker.Delivery;

namespace Notifications.EmailWorker.Tests.Support;

/// <summary>One call the scripted deliverer received, and the trace context it ran in.</summary>
internal sealed record ReceivedAttempt(Guid JobId, int Number, DeliveryAttempt Attempt, DateTimeOffset At, ActivityContext? Context);

/// <summary>
/// A deliverer whose answers a test scripts, at the <see cref="IChannelDeliverer"/> boundary the consumer is built
/// against. It records every call when it starts; <see cref="Completed"/> holds the calls that returned a result.
/// </summary>
internal sealed class ScriptedDeliverer(
    Func<DeliveryAttempt, CancellationToken, Task<DeliveryResult>> script,
    DeliveryChannel channel = DeliveryChannel.Email) : IChannelDeliverer
{
    public const string Provider = "scripted";

    private readonly ConcurrentQueue<ReceivedAttempt> _started = new();
    private readonly ConcurrentQueue<ReceivedAttempt> _completed = new();

    public DeliveryChannel Channel => channel;

    public IReadOnlyList<ReceivedAttempt> Started => [.. _started];

    public IReadOnlyList<ReceivedAttempt> Completed => [.. _completed];

    public static ScriptedDeliverer Succeeding(DeliveryChannel channel = DeliveryChannel.Email) =>
        new((attempt, _) => Task.FromResult<DeliveryResult>(new DeliveryResult.Sent(Provider, $"msg-{attempt.Job.Id:N}", 200, "{\"id\":\"ok\"}")), channel);

    public static ScriptedDeliverer Answering(Func<DeliveryAttempt, DeliveryResult> answer) =>
        new((attempt, _) => Task.FromResult(answer(attempt)));

    public int CallsFor(Guid jobId) => _started.Count(call => call.JobId == jobId);

    public async Task<DeliveryResult> DeliverAsync(DeliveryAttempt attempt, CancellationToken cancellationToken)
    {
        // Like a real deliverer, right before its provider call: the rate limit tests time the calls.
        await attempt.WaitForSendPermitAsync(cancellationToken);
        var received = new ReceivedAttempt(attempt.Job.Id, attempt.Number, attempt, DateTimeOffset.UtcNow, Activity.Current?.Context);
        _started.Enqueue(received);
        var result = await script(attempt, cancellationToken);
        _completed.Enqueue(received);
        return result;
    }
}
