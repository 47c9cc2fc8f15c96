using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Time.Testing;
using Notifications.Domain.Quota;
using Notifications.EmailWorker.Delivery;
using Notifications.Testing.Fakes;
using static Notifications.EmailWorker.Tests.Email.EmailQuotaTests;

namespace Notifications.EmailWorker.Tests.Email;

/// <summary>Email through Resend's REST API, faked at the HTTP boundary with its real answers and idempotency.</summary>
[Collection(WorkerTestCollection.Name)]
public sealed class ResendEmailSenderTests(TestServers servers) : IAsyncLifetime
{
    private static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    private readonly FakeTimeProvider _clock = EmailChannelHost.FreshMonthClock();
    private FakeResendServer _resend = null!;
    private EmailChannelHost _host = null!;
    private EmailTestData _data = null!;

    public async ValueTask InitializeAsync()
    {
        _resend = await FakeResendServer.StartNewAsync();
        _host = await EmailChannelHost.StartAsync(servers, _clock, ResendSettings(_resend, new() { ["Email:Resend:Timeout"] = "00:00:00.500" }));
        _data = new EmailTestData(servers, _clock);
    }

    public async ValueTask DisposeAsync()
    {
        await _host.DisposeAsync();
        await _resend.DisposeAsync();
    }

    [Fact]
    public async Task Accepted_IsSentWithResendsIdAndTheRequestCarriesKeyHeadersAndTags()
    {
        var attempt = await _data.EmailAsync(await _data.UserAsync(), title: "Build <failed>", type: "ci.build.failed");

        var sent = Assert.IsType<DeliveryResult.Sent>(await _host.Deliverer.DeliverAsync(attempt, Cancellation));

        var email = Assert.Single(_resend.Emails);
        Assert.Equal(email.Id, sent.ProviderMessageId);
        Assert.Equal("resend", sent.Provider);
        Assert.Equal(200, sent.HttpStatusCode);
        var request = Assert.Single(_resend.Requests);
        Assert.Equal($"Bearer {FakeResendServer.ApiKey}", request.Header("Authorization"));
        Assert.Equal(attempt.IdempotencyKey, request.Header("Idempotency-Key"));
        var json = request.Json;
        Assert.Equal("Acme <notifications@acme.test>", json.GetProperty("from").GetString());
        Assert.Equal($"{attempt.Job.UserId}@example.test", Assert.Single(json.GetProperty("to").EnumerateArray()).GetString());
        Assert.Equal("Build <failed>", json.GetProperty("subject").GetString());
        Assert.Contains("Build &lt;failed&gt;", json.GetProperty("html").GetString());
        Assert.Contains("Build <failed>", json.GetProperty("text").GetString());
        Assert.StartsWith($"<{EmailChannelHost.PublicBaseUrl}api/unsubscribe?token=", json.GetProperty("headers").GetProperty("List-Unsubscribe").GetString());
        Assert.Equal("List-Unsubscribe=One-Click", json.GetProperty("headers").GetProperty("List-Unsubscribe-Post").GetString());
        var tag = Assert.Single(json.GetProperty("tags").EnumerateArray());
        Assert.Equal("type", tag.GetProperty("name").GetString());
        Assert.Equal("ci_build_failed", tag.GetProperty("value").GetString());
    }

    [Fact]
    public async Task SameJobAttemptedTwice_ResendAcceptsOneEmail()
    {
        var attempt = await _data.EmailAsync(await _data.UserAsync(), priority: Domain.Model.NotificationPriority.Critical);

        var first = Assert.IsType<DeliveryResult.Sent>(await _host.Deliverer.DeliverAsync(attempt, Cancellation));
        var second = Assert.IsType<DeliveryResult.Sent>(await _host.Deliverer.DeliverAsync(attempt with { Number = 2 }, Cancellation));

        Assert.Equal(first.ProviderMessageId, second.ProviderMessageId);
        Assert.Equal(2, _resend.Requests.Count);
        Assert.Equal(1, _resend.AcceptedCount(attempt.IdempotencyKey));
    }

    [Fact]
    public async Task RateLimited_IsTransientAfterRetryAfter()
    {
        _resend.FailNext(1, ResendFailure.RateLimited(retryAfterSeconds: 7));

        var result = await DeliverAsync();

        var failure = Assert.IsType<DeliveryResult.TransientFailure>(result);
        Assert.Equal(TimeSpan.FromSeconds(7), failure.RetryAfter);
        Assert.Equal(429, failure.HttpStatusCode);
        Assert.Contains("rate_limit_exceeded", failure.Error);
        Assert.Contains("rate_limit_exceeded", failure.ResponseExcerpt);
    }

    [Fact]
    public async Task ServerError_IsTransient()
    {
        _resend.FailNext(1, ResendFailure.InternalServerError);

        var failure = Assert.IsType<DeliveryResult.TransientFailure>(await DeliverAsync());

        Assert.Equal(500, failure.HttpStatusCode);
        Assert.Null(failure.RetryAfter);
    }

    [Fact]
    public async Task ValidationError_IsPermanentWithTheResponse()
    {
        _resend.FailNext(1, ResendFailure.ValidationError);

        var failure = Assert.IsType<DeliveryResult.PermanentFailure>(await DeliverAsync());

        Assert.Equal(422, failure.HttpStatusCode);
        Assert.Contains("validation_error", failure.Error);
        Assert.Contains("Invalid `to` field", failure.ResponseExcerpt);
    }

    [Fact]
    public async Task ConcurrentIdempotentRequest_IsTransient()
    {
        _resend.FailNext(1, ResendFailure.ConcurrentIdempotentRequests);

        var failure = Assert.IsType<DeliveryResult.TransientFailure>(await DeliverAsync());

        Assert.Equal(409, failure.HttpStatusCode);
        Assert.Contains("concurrent_idempotent_requests", failure.Error);
    }

    [Fact]
    public async Task MonthlyQuotaExceeded_DefersToTheFirstOfNextMonth()
    {
        _resend.FailNext(1, ResendFailure.MonthlyQuotaExceeded);

        var refused = Assert.IsType<DeliveryResult.QuotaExceeded>(await DeliverAsync());

        Assert.Equal(EmailQuotaCalendar.NextMonth(_clock.GetUtcNow()), refused.RetryAt);
        Assert.Equal(EmailQuotaCalendar.NextMonth(_clock.GetUtcNow()), (await _host.Quota.ReadUsageAsync()).LockedUntil);
    }

    [Fact]
    public async Task InvalidApiKey_IsPermanent()
    {
        await using var host = await EmailChannelHost.StartAsync(servers, _clock,
            ResendSettings(_resend, new() { ["Email:Resend:ApiKey"] = "re_not_the_key" }));
        var attempt = await _data.EmailAsync(await _data.UserAsync());

        var failure = Assert.IsType<DeliveryResult.PermanentFailure>(await host.Deliverer.DeliverAsync(attempt, Cancellation));

        Assert.Equal(403, failure.HttpStatusCode);
        Assert.Contains("invalid_api_key", failure.Error);
    }

    [Fact]
    public async Task NoAnswerWithinTheTimeout_IsTransient()
    {
        _resend.ResponseDelay = TimeSpan.FromSeconds(10);

        var failure = Assert.IsType<DeliveryResult.TransientFailure>(await DeliverAsync());

        Assert.Contains("did not answer within 0.5 s", failure.Error);
        Assert.Null(failure.HttpStatusCode);
    }

    [Fact]
    public async Task Unreachable_IsTransient()
    {
        var closedPort = ClosedPort();
        await using var host = await EmailChannelHost.StartAsync(servers, _clock,
            ResendSettings(_resend, new() { ["Email:Resend:BaseUrl"] = $"http://127.0.0.1:{closedPort}/" }));
        var attempt = await _data.EmailAsync(await _data.UserAsync());

        var failure = Assert.IsType<DeliveryResult.TransientFailure>(await host.Deliverer.DeliverAsync(attempt, Cancellation));

        Assert.Contains("could not be reached", failure.Error);
    }

    /// <summary>A loopback port nothing listens on.</summary>
    internal static int ClosedPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private async Task<DeliveryResult> DeliverAsync() =>
        await _host.Deliverer.DeliverAsync(await _data.EmailAsync(await _data.UserAsync()), Cancellation);
}
