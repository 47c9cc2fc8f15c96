using System.Diagnostics;
using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Notifications.Domain.Model;
using Notifications.Domain.Unsubscribe;
using Notifications.EmailWorker.Delivery;
using static Notifications.EmailWorker.Tests.Email.EmailTestData;

namespace Notifications.EmailWorker.Tests.Email;

/// <summary>
/// The email deliverer end to end against Postgres and Redis with the dev mailbox: loading, skipping, templates,
/// escaping, unsubscribe headers, digests, tracing.
/// </summary>
[Collection(WorkerTestCollection.Name)]
public sealed class EmailDelivererTests(TestServers servers) : IAsyncLifetime
{
    private static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    private readonly FakeTimeProvider _clock = EmailChannelHost.FreshMonthClock();
    private EmailChannelHost _host = null!;
    private EmailTestData _data = null!;

    public async ValueTask InitializeAsync()
    {
        _host = await EmailChannelHost.StartAsync(servers, _clock, new Dictionary<string, string?>
        {
            ["Email:UnsubscribeMailto"] = "unsubscribe@notifications.test",
        });
        _data = new EmailTestData(servers, _clock);
    }

    public ValueTask DisposeAsync() => _host.DisposeAsync();

    [Fact]
    public async Task DeliverAsync_ScriptInTitleAndBody_ArrivesEscapedInHtmlAndIntactInText()
    {
        var user = await _data.UserAsync(displayName: "<b>Mallory</b>");
        var attempt = await _data.EmailAsync(user, title: "Hi <script>alert('x')</script>", body: "Tom & Jerry <img src=x onerror=alert(1)>");

        var result = await _host.Deliverer.DeliverAsync(attempt, Cancellation);

        var sent = Assert.IsType<DeliveryResult.Sent>(result);
        var message = Assert.Single(await _data.MailboxAsync(attempt));
        Assert.Equal(sent.ProviderMessageId, message.Id.ToString("D"));
        Assert.Equal("Hi <script>alert('x')</script>", message.Subject);
        Assert.DoesNotContain("<script>", message.Html);
        Assert.DoesNotContain("<img", message.Html);
        Assert.DoesNotContain("<b>Mallory", message.Html);
        Assert.Contains("&lt;script&gt;", message.Html);
        Assert.Contains("Tom &amp; Jerry &lt;img", message.Html);
        Assert.Contains("Hi <script>alert('x')</script>", message.Text);
        Assert.Contains("Tom & Jerry <img src=x onerror=alert(1)>", message.Text);
        Assert.Contains("Hi <b>Mallory</b>,", message.Text);
    }

    [Fact]
    public async Task DeliverAsync_Email_CarriesOneClickListUnsubscribeAndTheSameSignedLinkInItsBody()
    {
        var user = await _data.UserAsync();
        var attempt = await _data.EmailAsync(user, category: "marketing");

        Assert.IsType<DeliveryResult.Sent>(await _host.Deliverer.DeliverAsync(attempt, Cancellation));

        var message = Assert.Single(await _data.MailboxAsync(attempt));
        Assert.Equal("List-Unsubscribe=One-Click", Header(message, "List-Unsubscribe-Post"));
        var listUnsubscribe = Header(message, "List-Unsubscribe");
        var link = listUnsubscribe[1..listUnsubscribe.IndexOf('>')];
        Assert.StartsWith($"{EmailChannelHost.PublicBaseUrl}api/unsubscribe?token=", link);
        Assert.EndsWith(", <mailto:unsubscribe@notifications.test?subject=unsubscribe>", listUnsubscribe);
        // The body's link is the header's link (HTML-encoded in the attribute, as it must be).
        Assert.Contains(link, Regex.Matches(message.Html, "href=\"([^\"]*)\"").Select(match => WebUtility.HtmlDecode(match.Groups[1].Value)));
        Assert.Contains(link, message.Text);
        Assert.Equal($"{user}@example.test", message.ToAddress);
        Assert.Equal("Notifications <notifications@localhost>", message.FromAddress);

        // The API verifies with the same Domain code and the shared key.
        var tokens = new UnsubscribeTokens(Options.Create(new UnsubscribeOptions { SigningKey = EmailChannelHost.SigningKey }), _clock);
        Assert.True(tokens.TryVerify(link[(link.IndexOf("token=", StringComparison.Ordinal) + "token=".Length)..], out var request, out var error), error);
        Assert.Equal(user, request.UserId);
        Assert.Equal("marketing", request.Category);
        Assert.Equal(_clock.GetUtcNow().AddDays(60).ToUnixTimeSeconds(), request.ExpiresAt.ToUnixTimeSeconds());
    }

    [Fact]
    public async Task DeliverAsync_Digest_ListsTheNewestMaxItemsThenAndNMore()
    {
        var user = await _data.UserAsync();
        var attempt = await _data.DigestAsync(user, items: 7, maxItems: 3);

        Assert.IsType<DeliveryResult.Sent>(await _host.Deliverer.DeliverAsync(attempt, Cancellation));

        var message = Assert.Single(await _data.MailboxAsync(attempt));
        Assert.Equal("Your digest: 7 notifications", message.Subject);
        foreach (var body in new[] { message.Html, message.Text })
        {
            var positions = new[] { "Item 7", "Item 6", "Item 5" }.Select(title => body.IndexOf(title, StringComparison.Ordinal)).ToList();
            Assert.All(positions, position => Assert.True(position >= 0));
            Assert.Equal(positions.Order(), positions);
            Assert.DoesNotContain("Item 4", body);
            Assert.Contains("and 4 more", body);
        }
        // A digest's link unsubscribes from all email.
        var listUnsubscribe = Header(message, "List-Unsubscribe");
        var token = listUnsubscribe[(listUnsubscribe.IndexOf("token=", StringComparison.Ordinal) + 6)..listUnsubscribe.IndexOf('>')];
        var tokens = _host.Services.GetRequiredService<UnsubscribeTokens>();
        Assert.True(tokens.TryVerify(token, out var request, out _));
        Assert.True(request.AllEmail);
    }

    [Fact]
    public async Task DeliverAsync_DigestWithFewerItemsThanItsMaximum_ListsThemAllWithoutAndMore()
    {
        var user = await _data.UserAsync();
        var attempt = await _data.DigestAsync(user, items: 1, maxItems: 5);

        Assert.IsType<DeliveryResult.Sent>(await _host.Deliverer.DeliverAsync(attempt, Cancellation));

        var message = Assert.Single(await _data.MailboxAsync(attempt));
        Assert.Equal("Your digest: 1 notification", message.Subject);
        Assert.Contains("Item 1", message.Html);
        Assert.DoesNotContain("more", message.Text);
    }

    [Theory]
    [InlineData("disabled", "turned email off")]
    [InlineData("muted", "muted until")]
    [InlineData("no-address", "no email address")]
    [InlineData("unsubscribed", "turned off email for")]
    public async Task DeliverAsync_RecipientWhoMustNotGetEmail_IsSkippedWithTheReasonAndNothingSent(string situation, string reason)
    {
        var user = situation switch
        {
            "disabled" => await _data.UserAsync(emailEnabled: false),
            "muted" => await _data.UserAsync(mutedUntil: _clock.GetUtcNow().AddHours(1)),
            "no-address" => await _data.UserAsync(email: null),
            _ => await _data.UserAsync(),
        };
        if (situation == "unsubscribed")
        {
            await _data.DisableEmailForCategoryAsync(user, "reports");
        }
        var attempt = await _data.EmailAsync(user, category: "reports");

        var result = await _host.Deliverer.DeliverAsync(attempt, Cancellation);

        var skipped = Assert.IsType<DeliveryResult.Skipped>(result);
        Assert.Contains(reason, skipped.Reason);
        Assert.Equal(DeliveryOutcome.Skipped, result.Outcome);
        Assert.Empty(await _data.MailboxAsync(attempt));
    }

    [Fact]
    public async Task DeliverAsync_MuteThatHasEnded_Sends()
    {
        var user = await _data.UserAsync(mutedUntil: _clock.GetUtcNow().AddMinutes(-1));
        var attempt = await _data.EmailAsync(user);

        Assert.IsType<DeliveryResult.Sent>(await _host.Deliverer.DeliverAsync(attempt, Cancellation));
    }

    [Fact]
    public async Task DeliverAsync_TypeWithItsOwnTemplate_UsesIt_AndAnyOtherTypeUsesTheDefault()
    {
        var user = await _data.UserAsync();
        var alert = await _data.EmailAsync(user, title: "New sign-in", type: "security.alert", category: "security",
            priority: NotificationPriority.Critical, data: """{"ipAddress":"203.0.113.9","location":"Lyon <FR>"}""");
        var other = await _data.EmailAsync(user, title: "Something else", type: "never.seen.before");

        Assert.IsType<DeliveryResult.Sent>(await _host.Deliverer.DeliverAsync(alert, Cancellation));
        Assert.IsType<DeliveryResult.Sent>(await _host.Deliverer.DeliverAsync(other, Cancellation));

        var alertMessage = Assert.Single(await _data.MailboxAsync(alert));
        Assert.Contains("Security alert", alertMessage.Html);
        Assert.Contains("203.0.113.9", alertMessage.Html);
        Assert.Contains("Lyon &lt;FR&gt;", alertMessage.Html);
        Assert.Contains("SECURITY ALERT: New sign-in", alertMessage.Text);
        Assert.Contains("Location:   Lyon <FR>", alertMessage.Text);
        var otherMessage = Assert.Single(await _data.MailboxAsync(other));
        Assert.DoesNotContain("Security alert", otherMessage.Html);
        Assert.Contains("Something else", otherMessage.Html);
    }

    [Fact]
    public async Task DeliverAsync_SameJobTwice_StoresOneMessageAndAnswersItsIdBothTimes()
    {
        var user = await _data.UserAsync();
        var attempt = await _data.EmailAsync(user);

        var first = Assert.IsType<DeliveryResult.Sent>(await _host.Deliverer.DeliverAsync(attempt, Cancellation));
        var second = Assert.IsType<DeliveryResult.Sent>(await _host.Deliverer.DeliverAsync(attempt with { Number = 2 }, Cancellation));

        Assert.Equal(first.ProviderMessageId, second.ProviderMessageId);
        Assert.Single(await _data.MailboxAsync(attempt));
    }

    [Fact]
    public async Task DeliverAsync_ManyAtOnce_EachEmailCarriesItsOwnRecipientAndContent()
    {
        // Concurrent loads are answered together by one query: each must still get its own row.
        var attempts = new List<(string User, DeliveryAttempt Attempt)>();
        for (var i = 0; i < 40; i++)
        {
            var user = await _data.UserAsync(displayName: $"Reader {i}", emailEnabled: i % 10 != 3);
            attempts.Add((user, await _data.EmailAsync(user, title: $"Title {i}", body: $"Body {i}")));
        }

        var results = await Task.WhenAll(attempts.Select(pair => Task.Run(() => _host.Deliverer.DeliverAsync(pair.Attempt, Cancellation))));

        for (var i = 0; i < attempts.Count; i++)
        {
            if (i % 10 == 3)
            {
                Assert.IsType<DeliveryResult.Skipped>(results[i]);
                continue;
            }
            Assert.IsType<DeliveryResult.Sent>(results[i]);
            var message = Assert.Single(await _data.MailboxAsync(attempts[i].Attempt));
            Assert.Equal($"{attempts[i].User}@example.test", message.ToAddress);
            Assert.Equal($"Title {i}", message.Subject);
            Assert.Contains($"Hi Reader {i},", message.Text);
            Assert.Contains($"Body {i}", message.Text);
        }
    }

    [Fact]
    public async Task DeliverAsync_WithTheNotificationAndRecipientOfTheClaim_SendsThoseWithoutLoadingThemAgain()
    {
        var user = await _data.UserAsync(displayName: "Stored Name");
        var claimed = await _data.ClaimedAsync(await _data.EmailAsync(user, title: "Stored title"));
        // What the claim read is what goes out, even once the rows have changed (or gone) since.
        var attempt = claimed with
        {
            Notification = new Notification
            {
                Id = claimed.Notification!.Id, UserId = user, Type = "report.ready", Category = "reports", Title = "Claimed title",
                Body = "Claimed body", Data = JsonDocument.Parse("{}"), CreatedAt = _clock.GetUtcNow(),
            },
            Recipient = new User
            {
                Id = user, Email = "claimed@example.test", DisplayName = "Claimed Name", CreatedAt = _clock.GetUtcNow(), UpdatedAt = _clock.GetUtcNow(),
            },
        };

        Assert.IsType<DeliveryResult.Sent>(await _host.Deliverer.DeliverAsync(attempt, Cancellation));

        var message = Assert.Single(await _data.MailboxAsync(attempt));
        Assert.Equal("claimed@example.test", message.ToAddress);
        Assert.Equal("Claimed title", message.Subject);
        Assert.Contains("Hi Claimed Name,", message.Text);
        Assert.Contains("Claimed body", message.Text);
    }

    [Fact]
    public async Task DeliverAsync_ManyClaimedAtOnce_EachFollowsItsOwnUsersEmailPreference()
    {
        // The preference lookups of concurrent attempts are answered together by one query: each must get its own answer.
        var attempts = new List<DeliveryAttempt>();
        for (var i = 0; i < 40; i++)
        {
            var user = await _data.UserAsync();
            if (i % 4 == 1)
            {
                await _data.DisableEmailForCategoryAsync(user, "reports");
            }
            attempts.Add(await _data.ClaimedAsync(await _data.EmailAsync(user, category: i % 8 == 5 ? "other" : "reports")));
        }

        var results = await Task.WhenAll(attempts.Select(attempt => Task.Run(() => _host.Deliverer.DeliverAsync(attempt, Cancellation))));

        for (var i = 0; i < attempts.Count; i++)
        {
            if (i % 4 == 1 && i % 8 != 5)
            {
                Assert.Contains("turned off email for", Assert.IsType<DeliveryResult.Skipped>(results[i]).Reason);
                Assert.Empty(await _data.MailboxAsync(attempts[i]));
                continue;
            }
            Assert.IsType<DeliveryResult.Sent>(results[i]);
            Assert.Single(await _data.MailboxAsync(attempts[i]));
        }
    }

    [Fact]
    public async Task DeliverAsync_NotificationThatNoLongerExists_IsSkipped()
    {
        var user = await _data.UserAsync();
        var attempt = await _data.EmailAsync(user);
        var gone = attempt with { Job = new DeliveryJob
        {
            NotificationId = Guid.NewGuid(), UserId = user, Channel = DeliveryChannel.Email, Status = DeliveryJobStatus.Processing,
            ScheduledFor = _clock.GetUtcNow(), CreatedAt = _clock.GetUtcNow(), UpdatedAt = _clock.GetUtcNow(),
        } };

        var skipped = Assert.IsType<DeliveryResult.Skipped>(await _host.Deliverer.DeliverAsync(gone, Cancellation));

        Assert.Contains("no longer exists", skipped.Reason);
    }

    [Fact]
    public async Task DeliverAsync_UnderAConsumeSpan_CreatesRenderQuotaAndSendChildSpans()
    {
        var user = await _data.UserAsync();
        var attempt = await _data.EmailAsync(user);
        var stopped = new List<Activity>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name is "Notifications.EmailWorker" or "Notifications.Tests.Consumer",
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = activity => { lock (stopped) { stopped.Add(activity); } },
        };
        ActivitySource.AddActivityListener(listener);
        using var consumerSource = new ActivitySource("Notifications.Tests.Consumer");

        using (var consume = consumerSource.StartActivity("consume email"))
        {
            Assert.IsType<DeliveryResult.Sent>(await _host.Deliverer.DeliverAsync(attempt, Cancellation));
            var children = stopped.Where(activity => activity.ParentSpanId == consume!.SpanId).Select(activity => activity.OperationName).ToList();
            Assert.Equal(["email.render", "email.quota", "email.send dev-mailbox"], children);
            Assert.All(stopped.Where(activity => children.Contains(activity.OperationName)), activity => Assert.Equal(consume!.TraceId, activity.TraceId));
        }
    }
}
