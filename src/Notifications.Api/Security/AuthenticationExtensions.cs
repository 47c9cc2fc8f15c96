using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.AspNetCore.Authorization;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.Tokens;

namespace Notifications.Api.Security;

public static class AuthenticationExtensions
{
    /// <summary>JWT bearer validation from <see cref="JwtOptions"/> (validated on start) and the <see cref="Policies"/>.</summary>
    public static IHostApplicationBuilder AddApiAuthentication(this IHostApplicationBuilder builder)
    {
        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<IValidateOptions<JwtOptions>, JwtOptionsValidator>();
        builder.Services.AddOptions<JwtOptions>().BindConfiguration(JwtOptions.SectionName).ValidateOnStart();
        builder.Services.AddSingleton<AccessTokenIssuer>();

        builder.Services.AddAuthentication(JwtBearerDefaults.AuthenticationScheme).AddJwtBearer();
        builder.Services.AddOptions<JwtBearerOptions>(JwtBearerDefaults.AuthenticationScheme)
            .Configure<IOptions<JwtOptions>>((bearer, jwtOptions) =>
            {
                var jwt = jwtOptions.Value;
                // Keep "sub", "role" and "scope" as issued instead of renaming them to WS-Federation URIs.
                bearer.MapInboundClaims = false;
                bearer.Events = StreamTokens.CreateEvents();
                bearer.TokenValidationParameters = new TokenValidationParameters
                {
                    ValidIssuer = jwt.Issuer,
                    ValidAudience = jwt.Audience,
                    IssuerSigningKey = jwt.CreateSecurityKey(),
                    // Pin the algorithm so a token cannot pick a weaker one (or "none").
                    ValidAlgorithms = [SecurityAlgorithms.HmacSha256],
                    RequireExpirationTime = true,
                    RequireSignedTokens = true,
                    NameClaimType = ClaimNames.Subject,
                    RoleClaimType = ClaimNames.Role,
                };
            });

        builder.Services.AddAuthorizationBuilder()
            .AddPolicy(Policies.User, policy => policy.RequireAuthenticatedUser()
                .RequireAssertion(context => context.User.FindUserId() is not null))
            .AddPolicy(Policies.Producer, policy => policy.RequireAuthenticatedUser()
                .RequireAssertion(context => context.User.IsProducer()))
            .AddPolicy(Policies.Admin, policy => policy.RequireAuthenticatedUser()
                .RequireAssertion(context => context.User.IsAdmin()));
        builder.Services.AddSingleton<IAuthorizationMiddlewareResultHandler, ProblemDetailsAuthorizationResultHandler>();
        return builder;
    }
}
