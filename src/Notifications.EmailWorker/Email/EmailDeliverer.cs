using System.Diagnostics;
using Notifications.Domain.Model;
using Notifications.Domain.Persistence;
using Notifications.Domain.Quota;
using Notifications.EmailWorker.Delivery;
using Notifications.EmailWorker.Email.Providers;
using Npgsql;
using StackExchange.Redis;

namespace Notifications.EmailWorker.Email;

/// <summary>
/// The email channel: for a claimed job, takes the recipient and content the claim loaded (loading what it lacks),
/// skips on purpose (email off, muted, no address, unsubscribed), renders, checks the user's rate limit and takes a quota
/// slot (high and critical priority bypass the quota but are counted; critical also bypasses the rate limit), then sends
/// once through the configured provider, taking the channel's send permit only then (a deferral never waits behind the
/// send rate limit). A slot and a rate-limit place are given back when the email is not sent, so the counters mean
/// "sent". Provider refusals and network failures are results, never exceptions.
/// </summary>
internal sealed partial class EmailDeliverer(
    EmailContentStore store,
    EmailComposer composer,
    EmailUserRateLimiter rateLimiter,
    EmailQuota quota,
    EmailQuotaAlerts alerts,
    IEmailSender sender,
    TimeProvider timeProvider,
    ILogger<EmailDeliverer> logger) : IChannelDeliverer
{
    /// <summary>Who answered a quota or rate-limit decision.</summary>
    public const string QuotaProvider = "redis";

    private const string StoreProvider = "postgres";

    private const string LockedReason = "The email quota is locked until it resets.";

    public DeliveryChannel Channel => DeliveryChannel.Email;

    public async Task<DeliveryResult> DeliverAsync(DeliveryAttempt attempt, CancellationToken cancellationToken)
    {
        var job = attempt.Job;
        EmailContent? content;
        try
        {
            content = await store.LoadAsync(attempt, cancellationToken);
        }
        catch (Exception exception) when (exception is NpgsqlException or TimeoutException && !cancellationToken.IsCancellationRequested)
        {
            Log.LoadFailed(logger, job.Id, exception);
            return new DeliveryResult.TransientFailure(StoreProvider, $"The email's content could not be loaded: {exception.Message}");
        }

        if (SkipReason(content) is { } skip)
        {
            Log.Skipped(logger, job.Id, job.UserId, skip.Reason);
            EmailMetrics.Skipped.Add(1, new KeyValuePair<string, object?>("reason", skip.Tag));
            return new DeliveryResult.Skipped(sender.Name, skip.Reason);
        }

        EmailMessage message;
        using (WorkerTelemetry.ActivitySource.StartActivity("email.render"))
        {
            message = composer.Compose(attempt.IdempotencyKey, content!.Recipient.Address!, content);
        }

        var (refusal, decision, rateCounted) = await TakeSlotAsync(job, attempt.IdempotencyKey);
        if (refusal is not null)
        {
            return refusal;
        }

        DeliveryResult result;
        try
        {
            await attempt.WaitForSendPermitAsync(cancellationToken);
            result = await SendAsync(message, cancellationToken);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Shutting down: the job is attempted again, and takes its slot again then.
            await GiveBackAsync(job, attempt.IdempotencyKey, decision, rateCounted);
            throw;
        }

        if (result is DeliveryResult.Sent sent)
        {
            Log.Sent(logger, job.Id, sender.Name, sent.ProviderMessageId);
            return result;
        }
        Log.NotSent(logger, job.Id, sender.Name, result.Outcome, Error(result));
        await GiveBackAsync(job, attempt.IdempotencyKey, decision, rateCounted);
        if (result is DeliveryResult.QuotaExceeded providerQuota)
        {
            EmailMetrics.QuotaDeferrals.Add(1, new KeyValuePair<string, object?>("reason", "provider_quota"));
            await LockQuotaAsync(providerQuota.RetryAt);
        }
        return result;
    }

    /// <summary>The provider call, in its own client span and measured.</summary>
    private async Task<DeliveryResult> SendAsync(EmailMessage message, CancellationToken cancellationToken)
    {
        using var activity = WorkerTelemetry.ActivitySource.StartActivity($"email.send {sender.Name}", ActivityKind.Client);
        activity?.SetTag("email.provider", sender.Name);
        var started = Stopwatch.GetTimestamp();
        var result = await sender.SendAsync(message, cancellationToken);
        var outcome = Outcome(result);
        activity?.SetTag("email.outcome", outcome);
        if (result is not DeliveryResult.Sent)
        {
            activity?.SetStatus(ActivityStatusCode.Error, Error(result));
        }
        var tags = new TagList { { "provider", sender.Name }, { "outcome", outcome } };
        EmailMetrics.ProviderResults.Add(1, tags);
        EmailMetrics.ProviderDuration.Record(Stopwatch.GetElapsedTime(started).TotalMilliseconds, tags);
        return result;
    }

    /// <summary>
    /// The user's rate limit, then the quota. Returns the refusal (a deferral, or a transient failure when Redis cannot
    /// be asked), or the quota decision and whether a rate-limit place was taken.
    /// </summary>
    private async Task<(DeliveryResult? Refusal, EmailQuotaDecision? Decision, bool RateCounted)> TakeSlotAsync(DeliveryJob job, string jobKey)
    {
        using var activity = WorkerTelemetry.ActivitySource.StartActivity("email.quota");
        var bypass = job.Priority is NotificationPriority.High or NotificationPriority.Critical;
        if (!bypass && quota.KnownLockedUntil is { } lockedUntil)
        {
            // Seen locked moments ago: defer without asking Redis at all.
            activity?.SetTag("email.quota.outcome", nameof(EmailQuotaOutcome.Locked));
            EmailMetrics.QuotaDeferrals.Add(1, new KeyValuePair<string, object?>("reason", "locked"));
            Log.QuotaDeferred(logger, job.Id, LockedReason, lockedUntil);
            return (new DeliveryResult.QuotaExceeded(QuotaProvider, lockedUntil, LockedReason), null, false);
        }
        var rateCounted = false;
        try
        {
            if (job.Priority != NotificationPriority.Critical && rateLimiter.Enabled)
            {
                if (await rateLimiter.TryTakeAsync(job.UserId, jobKey) is { } freesAt)
                {
                    activity?.SetTag("email.quota.outcome", "user_rate_limit");
                    EmailMetrics.QuotaDeferrals.Add(1, new KeyValuePair<string, object?>("reason", "user_rate_limit"));
                    Log.RateLimited(logger, job.Id, job.UserId, freesAt);
                    return (new DeliveryResult.QuotaExceeded(QuotaProvider, freesAt, "The user's email rate limit is reached."), null, false);
                }
                rateCounted = true;
            }

            var decision = await quota.TryTakeAsync(bypass);
            activity?.SetTag("email.quota.outcome", decision.Outcome.ToString());
            activity?.SetTag("email.quota.day_count", decision.DayCount);
            if (decision.Allowed)
            {
                if (decision.Outcome == EmailQuotaOutcome.Taken)
                {
                    EmailMetrics.QuotaUsed.Add(1, new KeyValuePair<string, object?>("bypass", bypass));
                }
                alerts.Raise(decision);
                return (null, decision, rateCounted);
            }

            if (rateCounted)
            {
                await rateLimiter.ReleaseAsync(job.UserId, jobKey);
            }
            var (reason, tag) = decision.Outcome switch
            {
                EmailQuotaOutcome.DailyLimitReached => ("The daily email quota is reached.", "daily_limit"),
                EmailQuotaOutcome.MonthlyLimitReached => ("The monthly email quota is reached.", "monthly_limit"),
                _ => (LockedReason, "locked"),
            };
            EmailMetrics.QuotaDeferrals.Add(1, new KeyValuePair<string, object?>("reason", tag));
            Log.QuotaDeferred(logger, job.Id, reason, decision.ResetsAt!.Value);
            return (new DeliveryResult.QuotaExceeded(QuotaProvider, decision.ResetsAt.Value, reason), null, false);
        }
        catch (RedisException exception)
        {
            activity?.SetStatus(ActivityStatusCode.Error, exception.Message);
            Log.QuotaUnavailable(logger, job.Id, exception);
            if (rateCounted)
            {
                await GiveBackAsync(job, jobKey, decision: null, rateCounted);
            }
            return (new DeliveryResult.TransientFailure(QuotaProvider, $"The email quota could not be checked: {exception.Message}"), null, false);
        }
    }

    /// <summary>The email was not sent: its quota slot and rate-limit place go back. Failing to give back is logged, not thrown.</summary>
    private async Task GiveBackAsync(DeliveryJob job, string jobKey, EmailQuotaDecision? decision, bool rateCounted)
    {
        try
        {
            if (decision?.Outcome == EmailQuotaOutcome.Taken)
            {
                await quota.RefundAsync(decision);
                EmailMetrics.QuotaUsed.Add(-1, new KeyValuePair<string, object?>("bypass", job.Priority is NotificationPriority.High or NotificationPriority.Critical));
            }
            if (rateCounted)
            {
                await rateLimiter.ReleaseAsync(job.UserId, jobKey);
            }
        }
        catch (RedisException exception)
        {
            Log.GiveBackFailed(logger, job.Id, exception);
        }
    }

    private async Task LockQuotaAsync(DateTimeOffset until)
    {
        try
        {
            await quota.LockUntilAsync(until);
        }
        catch (RedisException exception)
        {
            Log.LockFailed(logger, until, exception);
        }
    }

    private (string Reason, string Tag)? SkipReason(EmailContent? content)
    {
        if (content is null)
        {
            return ("The recipient or the notification no longer exists.", "gone");
        }
        var recipient = content.Recipient;
        if (!recipient.EmailEnabled)
        {
            return ("The user has turned email off.", "disabled");
        }
        if (recipient.MutedUntil is { } mutedUntil && mutedUntil > timeProvider.GetUtcNow())
        {
            return ($"The user is muted until {mutedUntil:O}.", "muted");
        }
        if (string.IsNullOrWhiteSpace(recipient.Address))
        {
            return ("The user has no email address.", "no_address");
        }
        return content switch
        {
            NotificationEmailContent { EmailAllowed: false } notification =>
                ($"The user has turned off email for '{notification.Type}' or its category '{notification.Category}'.", "unsubscribed"),
            DigestEmailContent { TotalItems: 0 } => ("The digest has nothing left to deliver.", "empty_digest"),
            _ => null,
        };
    }

    private static string Outcome(DeliveryResult result) => SnakeCaseEnum<DeliveryOutcome>.ToName(result.Outcome);

    private static string Error(DeliveryResult result) => result switch
    {
        DeliveryResult.TransientFailure failure => failure.Error,
        DeliveryResult.PermanentFailure failure => failure.Error,
        DeliveryResult.QuotaExceeded quota => quota.Reason,
        DeliveryResult.Skipped skipped => skipped.Reason,
        _ => "",
    };

    private static partial class Log
    {
        [LoggerMessage(EventId = 5500, Level = LogLevel.Debug, Message = "Email job {JobId} sent through {Provider} as {ProviderMessageId}")]
        public static partial void Sent(ILogger logger, Guid jobId, string provider, string? providerMessageId);

        [LoggerMessage(EventId = 5501, Level = LogLevel.Information, Message = "Email job {JobId} for user {UserId} skipped: {Reason}")]
        public static partial void Skipped(ILogger logger, Guid jobId, string userId, string reason);

        [LoggerMessage(EventId = 5502, Level = LogLevel.Warning, Message = "Email job {JobId} not sent through {Provider} ({Outcome}): {Error}")]
        public static partial void NotSent(ILogger logger, Guid jobId, string provider, DeliveryOutcome outcome, string error);

        // Debug: while the quota is spent every normal email is deferred, and the lock itself is logged once as a warning.
        [LoggerMessage(EventId = 5503, Level = LogLevel.Debug, Message = "Email job {JobId} deferred: {Reason} It may go at {ResetsAt:O}")]
        public static partial void QuotaDeferred(ILogger logger, Guid jobId, string reason, DateTimeOffset resetsAt);

        [LoggerMessage(EventId = 5504, Level = LogLevel.Information, Message = "Email job {JobId} deferred: user {UserId} reached the email rate limit; a place frees at {FreesAt:O}")]
        public static partial void RateLimited(ILogger logger, Guid jobId, string userId, DateTimeOffset freesAt);

        [LoggerMessage(EventId = 5505, Level = LogLevel.Warning, Message = "The email quota could not be checked for job {JobId}")]
        public static partial void QuotaUnavailable(ILogger logger, Guid jobId, Exception exception);

        [LoggerMessage(EventId = 5506, Level = LogLevel.Warning, Message = "The quota slot of email job {JobId} could not be given back")]
        public static partial void GiveBackFailed(ILogger logger, Guid jobId, Exception exception);

        [LoggerMessage(EventId = 5507, Level = LogLevel.Warning, Message = "The email quota could not be locked until {Until:O}")]
        public static partial void LockFailed(ILogger logger, DateTimeOffset until, Exception exception);

        [LoggerMessage(EventId = 5508, Level = LogLevel.Warning, Message = "The content of email job {JobId} could not be loaded")]
        public static partial void LoadFailed(ILogger logger, Guid jobId, Exception exception);
    }
}
