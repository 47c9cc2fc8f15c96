using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using Notifications.Domain.Model;
using Notifications.EmailWorker.Delivery;
using Notifications.EmailWorker.Tests.Support;

namespace Notifications.EmailWorker.Tests.Consuming;

[Collection(WorkerTestCollection.Name)]
public sealed class TelemetryTests(TestServers servers)
{
    private const string TraceId = "4bf92f3577b34da6a3ce929d0e0e4736";
    private const string ParentSpanId = "00f067aa0ba902b7";

    [Fact]
    public async Task WorkerSpan_ContinuesTheEntrysTrace_AndTheProviderCallIsItsChild()
    {
        await using var context = await WorkerTestContext.CreateAsync(servers);
        var job = (await context.CreateJobsAsync(await context.CreateUserAsync(), 1)).Single();
        var stopped = new ConcurrentQueue<Activity>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == WorkerTelemetry.Name,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = stopped.Enqueue,
        };
        ActivitySource.AddActivityListener(listener);
        var deliverer = new ScriptedDeliverer((_, _) =>
        {
            using var providerCall = WorkerTelemetry.ActivitySource.StartActivity("scripted send", ActivityKind.Client);
            return Task.FromResult<DeliveryResult>(new DeliveryResult.Sent(ScriptedDeliverer.Provider, null));
        });
        await context.StartWorkerAsync(deliverer);

        await context.AppendAsync(job, $"00-{TraceId}-{ParentSpanId}-01", "vendor=value");

        await context.WaitForStatusAsync([job.Id], DeliveryJobStatus.Sent);
        var jobId = job.Id.ToString("D");
        await context.WaitUntilAsync(() => stopped.Any(activity => (string?)activity.GetTagItem("notifications.job.id") == jobId), "the worker span has ended");
        var process = stopped.Single(activity => (string?)activity.GetTagItem("notifications.job.id") == jobId);
        Assert.Equal(ActivityKind.Consumer, process.Kind);
        Assert.Equal(TraceId, process.TraceId.ToHexString());
        Assert.Equal(ParentSpanId, process.ParentSpanId.ToHexString());
        Assert.Equal("vendor=value", process.TraceStateString);
        Assert.Equal("notifications:stream:email", process.GetTagItem("messaging.destination.name"));
        Assert.Equal("Sent", process.GetTagItem("notifications.outcome"));
        var providerCall = stopped.Single(activity => activity.OperationName == "scripted send" && activity.TraceId.ToHexString() == TraceId);
        Assert.Equal(process.SpanId, providerCall.ParentSpanId);
    }

    [Fact]
    public async Task SentJob_IsCountedWithItsChannelAndProvider_AndTimed()
    {
        await using var context = await WorkerTestContext.CreateAsync(servers);
        var job = (await context.CreateJobsAsync(await context.CreateUserAsync(), 1)).Single();
        var measurements = new ConcurrentQueue<(string Instrument, double Value, Dictionary<string, object?> Tags)>();
        using var listener = new MeterListener
        {
            InstrumentPublished = (instrument, meterListener) =>
            {
                if (instrument.Meter.Name == WorkerTelemetry.Name)
                {
                    meterListener.EnableMeasurementEvents(instrument);
                }
            },
        };
        listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) =>
            measurements.Enqueue((instrument.Name, value, tags.ToArray().ToDictionary(tag => tag.Key, tag => tag.Value))));
        listener.SetMeasurementEventCallback<double>((instrument, value, tags, _) =>
            measurements.Enqueue((instrument.Name, value, tags.ToArray().ToDictionary(tag => tag.Key, tag => tag.Value))));
        listener.Start();
        await context.StartWorkerAsync(ScriptedDeliverer.Succeeding());

        await context.AppendAsync(job);

        await context.WaitForStatusAsync([job.Id], DeliveryJobStatus.Sent);
        await context.WaitUntilAsync(() => measurements.Any(measurement => measurement.Instrument == "notifications.worker.sent"), "the send is counted");
        var sent = measurements.First(measurement => measurement.Instrument == "notifications.worker.sent");
        Assert.Equal(1, sent.Value);
        Assert.Equal("email", sent.Tags["notifications.channel"]);
        Assert.Equal(ScriptedDeliverer.Provider, sent.Tags["notifications.provider"]);
        Assert.Contains(measurements, measurement => measurement.Instrument == "notifications.worker.send.duration" && measurement.Value >= 0);
    }

    [Fact]
    public async Task StreamLagAndPending_AreObservedPerStream()
    {
        await using var context = await WorkerTestContext.CreateAsync(servers);
        var jobs = await context.CreateJobsAsync(await context.CreateUserAsync(), 3);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await context.StartWorkerAsync(new ScriptedDeliverer(async (_, _) =>
        {
            await release.Task;
            return new DeliveryResult.Sent(ScriptedDeliverer.Provider, null);
        }), new Dictionary<string, string?> { ["Worker:MaxConcurrency"] = "3" });
        foreach (var job in jobs)
        {
            await context.AppendAsync(job);
        }
        var observed = new ConcurrentDictionary<string, long>();
        using var listener = new MeterListener
        {
            InstrumentPublished = (instrument, meterListener) =>
            {
                if (instrument.Meter.Name == WorkerTelemetry.Name && instrument.Name.StartsWith("notifications.worker.stream.", StringComparison.Ordinal))
                {
                    meterListener.EnableMeasurementEvents(instrument);
                }
            },
        };
        listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) =>
        {
            if (tags.ToArray().Any(tag => tag.Key == "messaging.destination.name" && (string?)tag.Value == "notifications:stream:email"))
            {
                observed[instrument.Name] = value;
            }
        });
        listener.Start();

        await context.WaitUntilAsync(() =>
        {
            listener.RecordObservableInstruments();
            return observed.GetValueOrDefault("notifications.worker.stream.pending") == 3 && observed.GetValueOrDefault("notifications.worker.stream.lag", -1) == 0;
        }, "the three entries in flight are observed as pending, none lagging");
        release.SetResult();
        await context.WaitForStatusAsync([.. jobs.Select(job => job.Id)], DeliveryJobStatus.Sent);
        await context.WaitUntilAsync(() =>
        {
            listener.RecordObservableInstruments();
            return observed.GetValueOrDefault("notifications.worker.stream.pending", -1) == 0;
        }, "nothing is pending once they are sent");
    }
}
