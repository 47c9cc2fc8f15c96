using System.Security.Claims;
using Notifications.Api.Security;

namespace Notifications.UnitTests.Api;

public sealed class ClaimsPrincipalExtensionsTests
{
    [Fact]
    public void GetUserId_AuthenticatedWithSub_ReturnsTheSub()
    {
        Assert.Equal("user-1", Caller(new Claim("sub", "user-1")).GetUserId());
    }

    [Fact]
    public void GetUserId_NoSub_Throws()
    {
        Assert.Throws<InvalidOperationException>(() => Caller(new Claim("role", "admin")).GetUserId());
    }

    [Fact]
    public void FindUserId_UnauthenticatedIdentityWithSub_ReturnsNull()
    {
        var anonymous = new ClaimsPrincipal(new ClaimsIdentity([new Claim("sub", "user-1")]));

        Assert.Null(anonymous.FindUserId());
    }

    [Theory]
    [InlineData("notifications:send", true)]
    [InlineData("profile notifications:send email", true)]
    [InlineData("notifications:sender", false)]
    [InlineData("Notifications:Send", false)]
    public void IsProducer_SpaceSeparatedScopeClaim_LooksForTheExactSendScope(string scope, bool expected)
    {
        Assert.Equal(expected, Caller(new Claim("sub", "svc"), new Claim("scope", scope)).IsProducer());
    }

    [Fact]
    public void IsProducer_ProducerRole_IsAProducer()
    {
        Assert.True(Caller(new Claim("sub", "svc"), new Claim("role", "producer")).IsProducer());
    }

    [Fact]
    public void IsProducer_AdminRoleOnly_IsNotAProducer()
    {
        Assert.False(Caller(new Claim("sub", "ops"), new Claim("role", "admin")).IsProducer());
    }

    private static ClaimsPrincipal Caller(params Claim[] claims) => new(new ClaimsIdentity(claims, "Bearer", "sub", "role"));
}
