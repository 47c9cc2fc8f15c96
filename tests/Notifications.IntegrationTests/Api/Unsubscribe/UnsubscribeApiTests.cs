using System.Net;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Notifications.Api.Apis;
using Notifications.Api.Problems;
using Notifications.Domain.Model;
using Notifications.Domain.Unsubscribe;
using Notifications.IntegrationTests.Api.Security;
using static Notifications.IntegrationTests.Api.Security.ProblemAssertions;

namespace Notifications.IntegrationTests.Api.Unsubscribe;

/// <summary>
/// <c>/api/unsubscribe</c> through the real host and database: GET only confirms, POST (button or RFC 8058 one-click)
/// applies, a bad token is a 400 problem, and repeating changes nothing more.
/// </summary>
[Collection(ApiSecurityCollection.Name)]
public sealed class UnsubscribeApiTests : IAsyncDisposable
{
    private static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    private readonly TestServers _servers;
    private readonly DateTimeOffset _now;
    private readonly SecurityApiFactory _api;

    public UnsubscribeApiTests(TestServers servers)
    {
        _servers = servers;
        var ticks = DateTimeOffset.UtcNow.UtcTicks;
        _now = new DateTimeOffset(ticks - ticks % TimeSpan.TicksPerMillisecond, TimeSpan.Zero);
        _api = new SecurityApiFactory(servers.Redis.ConnectionString, servers.DatabaseConnectionString, timeProvider: new FrozenTimeProvider(_now));
    }

    public ValueTask DisposeAsync() => _api.DisposeAsync();

    [Fact]
    public async Task Get_ValidToken_ShowsAConfirmationFormAndChangesNothing()
    {
        var userId = await SeedUserAsync();
        var token = Token(userId, "marketing");

        var response = await _api.CreateClient().GetAsync($"{UnsubscribeApi.Route}?token={token}", Cancellation);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("no-store", response.Headers.CacheControl?.ToString());
        var html = await response.Content.ReadAsStringAsync(Cancellation);
        Assert.Contains("<form method=\"post\"", html);
        Assert.Contains($"token={token}", html);
        Assert.Contains("emails about “marketing”", html);
        Assert.Empty(await PreferencesAsync(userId));
        Assert.True((await UserAsync(userId)).EmailEnabled);
    }

    [Fact]
    public async Task Post_AllEmailToken_TurnsTheUsersEmailOff_AndARepeatIsHarmless()
    {
        var userId = await SeedUserAsync();
        var url = $"{UnsubscribeApi.Route}?token={Token(userId, category: null)}";

        var first = await _api.CreateClient().PostAsync(url, content: null, Cancellation);
        var second = await _api.CreateClient().PostAsync(url, content: null, Cancellation);

        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal(HttpStatusCode.OK, second.StatusCode);
        Assert.Contains("You are unsubscribed", await first.Content.ReadAsStringAsync(Cancellation));
        var user = await UserAsync(userId);
        Assert.False(user.EmailEnabled);
        Assert.Equal(_now, user.UpdatedAt);
    }

    [Fact]
    public async Task Post_OneClickWithACategoryToken_WritesOneDisabledEmailPreferenceForTheCategory()
    {
        var userId = await SeedUserAsync();
        var url = $"{UnsubscribeApi.Route}?token={Token(userId, "marketing")}";

        for (var i = 0; i < 2; i++)
        {
            using var oneClick = new FormUrlEncodedContent([new("List-Unsubscribe", "One-Click")]);
            var response = await _api.CreateClient().PostAsync(url, oneClick, Cancellation);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        var preference = Assert.Single(await PreferencesAsync(userId));
        Assert.Equal(PreferenceScope.Category, preference.Scope);
        Assert.Equal("marketing", preference.ScopeKey);
        Assert.Equal(DeliveryChannel.Email, preference.Channel);
        Assert.False(preference.Enabled);
        Assert.Equal(DeliveryMode.Immediate, preference.DeliveryMode);
        Assert.True((await UserAsync(userId)).EmailEnabled);
    }

    [Fact]
    public async Task Post_CategoryWithAnExistingRule_DisablesItAndKeepsItsDeliveryMode()
    {
        var userId = await SeedUserAsync();
        await using (var context = TestDatabase.CreateContext(_servers.DatabaseConnectionString))
        {
            context.NotificationPreferences.Add(new NotificationPreference
            {
                UserId = userId, Scope = PreferenceScope.Category, ScopeKey = "digest-me", Channel = DeliveryChannel.Email,
                Enabled = true, DeliveryMode = DeliveryMode.Digest, UpdatedAt = _now.AddDays(-1),
            });
            await context.SaveChangesAsync(Cancellation);
        }

        var response = await _api.CreateClient().PostAsync($"{UnsubscribeApi.Route}?token={Token(userId, "digest-me")}", null, Cancellation);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var preference = Assert.Single(await PreferencesAsync(userId));
        Assert.False(preference.Enabled);
        Assert.Equal(DeliveryMode.Digest, preference.DeliveryMode);
        Assert.Equal(_now, preference.UpdatedAt);
    }

    [Fact]
    public async Task Post_ForAUserWhoNoLongerExists_AnswersOkAndWritesNothing()
    {
        var userId = $"gone-{Guid.NewGuid():N}";

        var response = await _api.CreateClient().PostAsync($"{UnsubscribeApi.Route}?token={Token(userId, "marketing")}", null, Cancellation);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Empty(await PreferencesAsync(userId));
    }

    [Fact]
    public async Task TokenSignedWithThePublishedDevelopmentKey_IsAcceptedInDevelopment()
    {
        // The worker's appsettings.Development.json carries the same published key, so its links work locally.
        var userId = await SeedUserAsync();
        var workerTokens = new UnsubscribeTokens(
            Options.Create(new UnsubscribeOptions { SigningKey = UnsubscribeOptions.PublishedDevelopmentSigningKey }), new FrozenTimeProvider(_now));

        var response = await _api.CreateClient().PostAsync($"{UnsubscribeApi.Route}?token={workerTokens.Create(userId, null)}", null, Cancellation);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.False((await UserAsync(userId)).EmailEnabled);
    }

    [Theory]
    [InlineData("GET", "missing")]
    [InlineData("POST", "missing")]
    [InlineData("GET", "tampered")]
    [InlineData("POST", "tampered")]
    [InlineData("POST", "expired")]
    [InlineData("POST", "other-key")]
    public async Task BadToken_Returns400ProblemNamingTheTokenAndChangesNothing(string method, string kind)
    {
        var userId = await SeedUserAsync();
        var token = kind switch
        {
            "missing" => "",
            "tampered" => Tampered(Token(userId, null)),
            "expired" => new UnsubscribeTokens(Options.Create(new UnsubscribeOptions { SigningKey = UnsubscribeOptions.PublishedDevelopmentSigningKey }),
                new FrozenTimeProvider(_now.AddDays(-61))).Create(userId, null),
            _ => new UnsubscribeTokens(Options.Create(new UnsubscribeOptions { SigningKey = "another-key-that-is-long-enough-0123456789" }),
                new FrozenTimeProvider(_now)).Create(userId, null),
        };
        using var request = new HttpRequestMessage(new HttpMethod(method), $"{UnsubscribeApi.Route}?token={token}");

        var response = await _api.CreateClient().SendAsync(request, Cancellation);

        var problem = await AssertProblemAsync(response, HttpStatusCode.BadRequest, ProblemTypes.Validation);
        Assert.True(problem.GetProperty("errors").TryGetProperty("token", out _));
        Assert.True((await UserAsync(userId)).EmailEnabled);
    }

    private string Token(string userId, string? category) => _api.Services.GetRequiredService<UnsubscribeTokens>().Create(userId, category);

    /// <summary>
    /// The token with the first character of its signature changed: that character carries six whole bits, unlike the
    /// last one whose low bits are padding, so the decoded signature always differs.
    /// </summary>
    private static string Tampered(string token)
    {
        var signatureStart = token.IndexOf('.', StringComparison.Ordinal) + 1;
        var replacement = token[signatureStart] == 'A' ? 'B' : 'A';
        return string.Concat(token.AsSpan(0, signatureStart), replacement.ToString(), token.AsSpan(signatureStart + 1));
    }

    private async Task<string> SeedUserAsync()
    {
        var id = $"unsubscribe-{Guid.NewGuid():N}";
        await using var context = TestDatabase.CreateContext(_servers.DatabaseConnectionString);
        context.Users.Add(new User { Id = id, Email = $"{id}@example.test", CreatedAt = _now.AddDays(-1), UpdatedAt = _now.AddDays(-1) });
        await context.SaveChangesAsync(Cancellation);
        return id;
    }

    private async Task<User> UserAsync(string userId)
    {
        await using var context = TestDatabase.CreateContext(_servers.DatabaseConnectionString);
        return await context.Users.AsNoTracking().SingleAsync(user => user.Id == userId, Cancellation);
    }

    private async Task<List<NotificationPreference>> PreferencesAsync(string userId)
    {
        await using var context = TestDatabase.CreateContext(_servers.DatabaseConnectionString);
        return await context.NotificationPreferences.AsNoTracking().Where(preference => preference.UserId == userId).ToListAsync(Cancellation);
    }
}
