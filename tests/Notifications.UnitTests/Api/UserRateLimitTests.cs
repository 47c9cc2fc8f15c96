using Microsoft.AspNetCore.Http;
using System.Net;
using System.Security.Claims;
using Notifications.Api.RateLimiting;
using Notifications.Domain.Redis;

namespace Notifications.UnitTests.Api;

public sealed class UserRateLimitTests
{
    private static readonly TimeSpan Minute = TimeSpan.FromMinutes(1);

    [Fact]
    public void FixedWindowAt_InstantInsideAMinute_NumbersTheWindowFromTheEpochAndCountsDownToItsEnd()
    {
        var now = DateTimeOffset.FromUnixTimeSeconds(60 * 1000 + 15);

        var window = FixedWindow.At(now, Minute);

        Assert.Equal(1000, window.Index);
        Assert.Equal(TimeSpan.FromSeconds(45), window.ResetAfter);
    }

    [Fact]
    public void FixedWindowAt_FirstInstantOfAWindow_ResetsAfterTheWholeWindow()
    {
        var window = FixedWindow.At(DateTimeOffset.FromUnixTimeSeconds(60 * 7), Minute);

        Assert.Equal(7, window.Index);
        Assert.Equal(Minute, window.ResetAfter);
    }

    [Theory]
    [InlineData(1, true, 99)]
    [InlineData(100, true, 0)]
    [InlineData(101, false, 0)]
    [InlineData(250, false, 0)]
    public void DecisionFromCount_AgainstALimitOf100_AllowsUpToTheLimit(long count, bool allowed, int remaining)
    {
        var decision = RateLimitDecision.FromCount(count, 100, TimeSpan.FromSeconds(10));

        Assert.Equal(allowed, decision.IsAllowed);
        Assert.Equal(remaining, decision.Remaining);
    }

    [Theory]
    [InlineData(12_001, 13)]
    [InlineData(12_000, 12)]
    [InlineData(1, 1)]
    public void ResetAfterSeconds_PartOfASecond_RoundsUpToAWholeSecond(int milliseconds, long seconds)
    {
        Assert.Equal(seconds, RateLimitDecision.FromCount(1, 1, TimeSpan.FromMilliseconds(milliseconds)).ResetAfterSeconds);
    }

    [Fact]
    public void Partition_AuthenticatedCaller_IsTheirUserId()
    {
        var context = new DefaultHttpContext { User = new ClaimsPrincipal(new ClaimsIdentity([new Claim("sub", "user-7")], "Bearer")) };
        context.Connection.RemoteIpAddress = IPAddress.Parse("10.0.0.1");

        Assert.Equal("user:user-7", UserRateLimitingMiddleware.Partition(context));
    }

    [Fact]
    public void Partition_OfAProducerRoute_IsCountedApartFromTheCallersUserBudget()
    {
        var context = new DefaultHttpContext { User = new ClaimsPrincipal(new ClaimsIdentity([new Claim("sub", "billing")], "Bearer")) };

        Assert.Equal("producer:billing", UserRateLimitingMiddleware.Partition(context, producer: true));
    }

    [Fact]
    public void Partition_AnonymousCaller_IsTheirAddress()
    {
        var context = new DefaultHttpContext();
        context.Connection.RemoteIpAddress = IPAddress.Parse("10.0.0.1");

        Assert.Equal("ip:10.0.0.1", UserRateLimitingMiddleware.Partition(context));
    }

    [Fact]
    public void RedisKey_OfAPartitionAndWindow_IsPrefixedAndNamesBoth()
    {
        Assert.Equal("notifications:ratelimit:user:7:1000", RedisKeys.RateLimit("user:7", 1000));
    }

    [Theory]
    [InlineData(0, "00:01:00", "RateLimiting:PermitsPerWindow")]
    [InlineData(100, "00:00:00.500", "RateLimiting:Window")]
    [InlineData(100, "2.00:00:00", "RateLimiting:Window")]
    public void OptionsValidation_OutOfRange_FailsNamingTheSetting(int permits, string window, string setting)
    {
        var options = new UserRateLimitOptions
        {
            PermitsPerWindow = permits,
            Window = TimeSpan.Parse(window, System.Globalization.CultureInfo.InvariantCulture),
        };

        var result = new UserRateLimitOptionsValidator().Validate(null, options);

        Assert.StartsWith(setting, Assert.Single(result.Failures!), StringComparison.Ordinal);
    }

    [Fact]
    public void OptionsValidation_Defaults_Succeed()
    {
        Assert.True(new UserRateLimitOptionsValidator().Validate(null, new UserRateLimitOptions()).Succeeded);
    }
}
