using Kaapana.Core.Access.Tokens;
using Microsoft.AspNetCore.Authentication;

namespace Kaapana.Server.Auth;

public static class ApiTokenExtensions
{
    /// <summary>Personal API tokens (settings <c>Kaapana:Tokens:*</c>): the service, the Bearer scheme and its principal cache.</summary>
    public static IServiceCollection AddKaapanaApiTokens(this IServiceCollection services)
    {
        services.AddOptions<ApiTokenOptions>().BindConfiguration(ApiTokenOptions.SectionName)
            .Validate(o => o.MaxLifetimeDays >= 1, "Kaapana:Tokens:MaxLifetimeDays must be at least 1.")
            .Validate(o => o.LastUsedResolution >= TimeSpan.Zero, "Kaapana:Tokens:LastUsedResolution must not be negative.")
            .ValidateOnStart();
        services.AddSingleton<ApiTokens>();
        services.AddSingleton<ApiTokenPrincipalCache>();
        services.AddAuthentication()
            .AddScheme<AuthenticationSchemeOptions, ApiTokenAuthenticationHandler>(ApiTokenAuthenticationHandler.SchemeName, null);
        return services;
    }
}
