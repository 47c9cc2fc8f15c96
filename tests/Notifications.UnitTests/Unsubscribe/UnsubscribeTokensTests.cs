using Microsoft.Extensions.Options;
using Notifications.Domain.Unsubscribe;

namespace Notifications.UnitTests.Unsubscribe;

public sealed class UnsubscribeTokensTests
{
    private const string Key = "unit-test-unsubscribe-signing-key-0123456789";

    private readonly SettableClock _clock = new(new DateTimeOffset(2026, 3, 29, 10, 0, 0, TimeSpan.Zero));

    [Theory]
    [InlineData("user-1", "marketing")]
    [InlineData("user-1", null)]
    [InlineData("ünïcödé \"user\" <42>", "weekly \"news\".")]
    public void TryVerify_TokenItCreated_ReturnsTheUserScopeAndExpiry(string userId, string? category)
    {
        var tokens = Tokens();

        var valid = tokens.TryVerify(tokens.Create(userId, category), out var request, out var error);

        Assert.True(valid, error);
        Assert.Equal(userId, request.UserId);
        Assert.Equal(category, request.Category);
        Assert.Equal(category is null, request.AllEmail);
        Assert.Equal(_clock.GetUtcNow().AddDays(60), request.ExpiresAt);
    }

    [Fact]
    public void Create_Token_IsUrlSafe()
    {
        var token = Tokens().Create("user/with+odd=chars?", "a&b");

        Assert.Equal(Uri.EscapeDataString(token), token);
    }

    [Fact]
    public void TryVerify_AfterItsExpiry_FailsSayingSo()
    {
        var tokens = Tokens();
        var token = tokens.Create("user-1", null);
        _clock.Now = _clock.Now.AddDays(60);

        Assert.False(tokens.TryVerify(token, out _, out var error));
        Assert.Contains("expired", error);
    }

    [Fact]
    public void TryVerify_TokenSignedWithAnotherKey_Fails()
    {
        var other = new UnsubscribeTokens(Options.Create(new UnsubscribeOptions { SigningKey = Key + "-other" }), _clock);

        Assert.False(Tokens().TryVerify(other.Create("user-1", null), out _, out var error));
        Assert.Contains("signature", error);
    }

    [Fact]
    public void TryVerify_PayloadChangedToAnotherUserOrScope_Fails()
    {
        var tokens = Tokens();
        var token = tokens.Create("user-1", "marketing");
        var forged = tokens.Create("user-2", null);
        // Someone else's payload with this token's signature.
        var spliced = forged[..forged.IndexOf('.')] + token[token.IndexOf('.')..];

        Assert.False(tokens.TryVerify(spliced, out _, out _));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("no-dot")]
    [InlineData(".")]
    [InlineData("!!!.###")]
    [InlineData("eyJ1IjoidSJ9.c2ln")]
    public void TryVerify_MissingOrMalformed_FailsWithoutThrowing(string? token)
    {
        Assert.False(Tokens().TryVerify(token, out _, out var error));
        Assert.NotEmpty(error);
    }

    private UnsubscribeTokens Tokens() => new(Options.Create(new UnsubscribeOptions { SigningKey = Key }), _clock);

    private sealed class SettableClock(DateTimeOffset now) : TimeProvider
    {
        public DateTimeOffset Now { get; set; } = now;

        public override DateTimeOffset GetUtcNow() => Now;
    }
}
