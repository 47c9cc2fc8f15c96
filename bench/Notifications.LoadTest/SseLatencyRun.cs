using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Notifications.LoadTest;

/// <summary>
/// End-to-end latency of the in-app path: <see cref="LoadTestOptions.Users"/> users each hold the Server-Sent-Events
/// stream open, notifications are sent to them at a fixed rate, and every event's arrival is matched (by notification
/// id) to its send. Latency is measured from the moment the send request started and from the moment its 202 arrived,
/// so the API's own share is visible; an event that arrives before its 202 is parsed counts as zero from the 202.
/// </summary>
internal sealed class SseLatencyRun(ProducerClient client, LoadTestOptions options)
{
    private static readonly MediaTypeHeaderValue Json = new("application/json");

    private readonly ConcurrentDictionary<Guid, Timing> _timings = new();
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private long _sequence;
    private int _errors;

    public async Task<SseResult> ExecuteAsync(Uri baseUrl, TimeSpan warmup, TimeSpan duration, CancellationToken cancellationToken)
    {
        using var streamsCancellation = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        using var streamHttp = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = client.UserIds.Count + 8 })
        {
            BaseAddress = baseUrl,
            Timeout = Timeout.InfiniteTimeSpan,
        };
        var opened = new CountdownEvent(client.UserIds.Count);
        var streams = client.UserIds.Select(userId => ListenAsync(streamHttp, userId, opened, streamsCancellation.Token)).ToList();
        opened.Wait(TimeSpan.FromSeconds(60), cancellationToken);

        await SendAtRateAsync(warmup, measured: false, cancellationToken);
        _timings.Clear();
        var sent = await SendAtRateAsync(duration, measured: true, cancellationToken);

        // Stragglers: give the pipeline a moment to deliver what was sent last.
        var deadline = _clock.Elapsed + TimeSpan.FromSeconds(10);
        while (_timings.Values.Count(timing => timing.ArrivedAt is null) > 0 && _clock.Elapsed < deadline)
        {
            await Task.Delay(100, cancellationToken);
        }
        await streamsCancellation.CancelAsync();
        await Task.WhenAll(streams.Select(stream => stream.ContinueWith(_ => { }, TaskScheduler.Default)));

        var complete = _timings.Values.Where(timing => timing is { ArrivedAt: not null, AcceptedAt: not null }).ToList();
        return new SseResult(
            sent,
            complete.Count,
            sent - complete.Count,
            Volatile.Read(ref _errors),
            [.. complete.Select(timing => (timing.ArrivedAt!.Value - timing.StartedAt).TotalMilliseconds).Order()],
            [.. complete.Select(timing => Math.Max(0, (timing.ArrivedAt!.Value - timing.AcceptedAt!.Value).TotalMilliseconds)).Order()]);
    }

    private async Task<int> SendAtRateAsync(TimeSpan duration, bool measured, CancellationToken cancellationToken)
    {
        var total = (int)(options.Rate * duration.TotalSeconds);
        var start = _clock.Elapsed;
        using var inFlight = new SemaphoreSlim(options.Concurrency);
        var requests = new List<Task>(total);
        for (var index = 0; index < total && !cancellationToken.IsCancellationRequested; index++)
        {
            var due = start + TimeSpan.FromSeconds(index / (double)options.Rate);
            var wait = due - _clock.Elapsed;
            if (wait > TimeSpan.FromMilliseconds(1))
            {
                await Task.Delay(wait, cancellationToken);
            }
            await inFlight.WaitAsync(cancellationToken);
            requests.Add(SendOneAsync(measured, inFlight, cancellationToken));
        }
        await Task.WhenAll(requests);
        return total;
    }

    private async Task SendOneAsync(bool measured, SemaphoreSlim inFlight, CancellationToken cancellationToken)
    {
        try
        {
            var sequence = Interlocked.Increment(ref _sequence);
            var userId = client.UserIds[(int)(sequence % client.UserIds.Count)];
            var startedAt = _clock.Elapsed;
            using var content = new ByteArrayContent(JsonSerializer.SerializeToUtf8Bytes(new
            {
                userId,
                type = "load.sse",
                category = "load",
                title = $"Latency probe {sequence}",
                body = "A notification sent by the load generator.",
                channels = options.SseChannels,
            }, JsonSerializerOptions.Web));
            content.Headers.ContentType = Json;
            using var response = await client.Http.PostAsync("/api/notifications", content, cancellationToken);
            var acceptedAt = _clock.Elapsed;
            if ((int)response.StatusCode != 202)
            {
                Interlocked.Increment(ref _errors);
                return;
            }
            var body = await response.Content.ReadFromJsonAsync<JsonObject>(cancellationToken);
            var notificationId = body!["notificationId"]!.GetValue<Guid>();
            if (measured)
            {
                _timings.AddOrUpdate(
                    notificationId,
                    _ => new Timing(startedAt, acceptedAt, null),
                    (_, arrived) => arrived with { StartedAt = startedAt, AcceptedAt = acceptedAt });
            }
        }
        catch (HttpRequestException)
        {
            Interlocked.Increment(ref _errors);
        }
        finally
        {
            inFlight.Release();
        }
    }

    private async Task ListenAsync(HttpClient http, string userId, CountdownEvent opened, CancellationToken cancellationToken)
    {
        using var tokenResponse = await http.PostAsJsonAsync("/api/dev/tokens", new { sub = userId }, cancellationToken);
        var token = (await tokenResponse.Content.ReadFromJsonAsync<JsonObject>(cancellationToken))!["accessToken"]!.GetValue<string>();
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/notifications/stream");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        response.EnsureSuccessStatusCode();
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(cancellationToken), Encoding.UTF8);
        opened.Signal();
        while (!cancellationToken.IsCancellationRequested && await reader.ReadLineAsync(cancellationToken) is { } line)
        {
            if (line.StartsWith("id: ", StringComparison.Ordinal) && Guid.TryParse(line.AsSpan(4), out var id))
            {
                var arrivedAt = _clock.Elapsed;
                _timings.AddOrUpdate(
                    id,
                    _ => new Timing(TimeSpan.Zero, null, arrivedAt),
                    (_, sent) => sent with { ArrivedAt = arrivedAt });
            }
        }
    }

    private sealed record Timing(TimeSpan StartedAt, TimeSpan? AcceptedAt, TimeSpan? ArrivedAt);
}

internal sealed record SseResult(int Sent, int Received, int Missing, int Errors, double[] FromRequestMs, double[] FromAcceptMs)
{
    public void Print(TextWriter output, int rate, int users)
    {
        output.WriteLine($"scenario           sse ({users} open streams, {rate} notifications/s)");
        output.WriteLine($"events             {Received} of {Sent} received, {Missing} missing, {Errors} send errors");
        output.WriteLine($"request → event ms p50 {Percentile(FromRequestMs, 0.50):0.0}  p90 {Percentile(FromRequestMs, 0.90):0.0}  p99 {Percentile(FromRequestMs, 0.99):0.0}  max {Percentile(FromRequestMs, 1):0.0}");
        output.WriteLine($"202 → event ms     p50 {Percentile(FromAcceptMs, 0.50):0.0}  p90 {Percentile(FromAcceptMs, 0.90):0.0}  p99 {Percentile(FromAcceptMs, 0.99):0.0}  max {Percentile(FromAcceptMs, 1):0.0}");
    }

    private static double Percentile(double[] sorted, double fraction) =>
        sorted.Length == 0 ? 0 : sorted[(int)Math.Min(sorted.Length - 1, Math.Ceiling(fraction * sorted.Length) - 1)];
}
