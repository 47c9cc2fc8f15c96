using Microsoft.Extensions.FileProviders;
using Microsoft.Extensions.Hosting;
using Notifications.Api.Security;

namespace Notifications.UnitTests.Api;

public sealed class JwtOptionsValidatorTests
{
    [Fact]
    public void Validate_PublishedKeyInDevelopment_Succeeds()
    {
        var result = Validator(Environments.Development).Validate(null, ValidOptions(JwtOptions.PublishedDevelopmentSigningKey));

        Assert.True(result.Succeeded);
    }

    [Fact]
    public void Validate_PublishedKeyOutsideDevelopment_FailsNamingTheSigningKey()
    {
        var result = Validator(Environments.Production).Validate(null, ValidOptions(JwtOptions.PublishedDevelopmentSigningKey));

        Assert.Contains("Authentication:Jwt:SigningKey is the published development key", Assert.Single(result.Failures!), StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_KeyOf31Bytes_FailsNamingTheSigningKeyAndItsLength()
    {
        var result = Validator(Environments.Production).Validate(null, ValidOptions(new string('k', 31)));

        Assert.Contains("Authentication:Jwt:SigningKey is 31 bytes long", Assert.Single(result.Failures!), StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_KeyOf32Bytes_Succeeds()
    {
        Assert.True(Validator(Environments.Production).Validate(null, ValidOptions(new string('k', 32))).Succeeded);
    }

    [Fact]
    public void Validate_NothingConfigured_FailsNamingIssuerAudienceAndSigningKey()
    {
        var failures = Validator(Environments.Production).Validate(null, new JwtOptions()).Failures!.ToList();

        Assert.Equal(3, failures.Count);
        Assert.StartsWith("Authentication:Jwt:Issuer", failures[0], StringComparison.Ordinal);
        Assert.StartsWith("Authentication:Jwt:Audience", failures[1], StringComparison.Ordinal);
        Assert.StartsWith("Authentication:Jwt:SigningKey", failures[2], StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("00:00:00")]
    [InlineData("1.00:00:01")]
    public void Validate_DevTokenLifetimeOutOfRange_FailsNamingIt(string lifetime)
    {
        var options = ValidOptions(new string('k', 32));
        options.DevTokenLifetime = TimeSpan.Parse(lifetime, System.Globalization.CultureInfo.InvariantCulture);

        var result = Validator(Environments.Development).Validate(null, options);

        Assert.StartsWith("Authentication:Jwt:DevTokenLifetime", Assert.Single(result.Failures!), StringComparison.Ordinal);
    }

    private static JwtOptions ValidOptions(string signingKey) =>
        new() { Issuer = "https://issuer.example", Audience = "notifications-api", SigningKey = signingKey };

    private static JwtOptionsValidator Validator(string environmentName) => new(new Environment(environmentName));

    private sealed class Environment(string name) : IHostEnvironment
    {
        public string EnvironmentName { get; set; } = name;
        public string ApplicationName { get; set; } = "Notifications.Api";
        public string ContentRootPath { get; set; } = "";
        public IFileProvider ContentRootFileProvider { get; set; } = new NullFileProvider();
    }
}
