using System.Net;
using Microsoft.AspNetCore.HttpOverrides;

namespace Kaapana.Server.Infrastructure;

/// <summary>
/// <c>Kaapana:ReverseProxy</c>: the proxies (e.g. nginx terminating TLS) whose <c>X-Forwarded-For</c> and
/// <c>X-Forwarded-Proto</c> are believed. Without them, behind a proxy every client has the proxy's address (one sign-in
/// rate-limit bucket for the whole lab, the proxy's address in the audit trail) and every request looks like plain HTTP
/// (no HSTS, no Secure cookies, OIDC redirect URIs with http). Nothing is believed unless configured: the headers of a
/// client that talks to us directly must not choose its own address.
/// </summary>
public sealed class ReverseProxyOptions
{
    public const string SectionName = "Kaapana:ReverseProxy";

    /// <summary>Addresses of the proxies, e.g. <c>10.0.0.5</c> or <c>127.0.0.1</c> for a proxy on the same machine.</summary>
    public List<string> KnownProxies { get; set; } = [];

    /// <summary>Networks of proxies in CIDR notation, e.g. <c>10.0.0.0/24</c>.</summary>
    public List<string> KnownNetworks { get; set; } = [];

    /// <summary>How many proxies in a row to walk back through <c>X-Forwarded-For</c> (each must be known).</summary>
    public int ForwardLimit { get; set; } = 1;

    public bool IsConfigured => KnownProxies.Count > 0 || KnownNetworks.Count > 0;

    /// <summary>The middleware's options; a clear error for an address or network that does not parse.</summary>
    public ForwardedHeadersOptions ToForwardedHeadersOptions()
    {
        if (ForwardLimit < 1) throw new InvalidOperationException($"{SectionName}:ForwardLimit must be at least 1, not {ForwardLimit}.");
        var options = new ForwardedHeadersOptions
        {
            ForwardedHeaders = ForwardedHeaders.XForwardedFor | ForwardedHeaders.XForwardedProto,
            ForwardLimit = ForwardLimit,
        };
        // The defaults trust loopback; only what is configured is trusted.
        options.KnownProxies.Clear();
        options.KnownIPNetworks.Clear();
        foreach (var proxy in KnownProxies)
            options.KnownProxies.Add(IPAddress.TryParse(proxy, out var address) ? address
                : throw new InvalidOperationException($"{SectionName}:KnownProxies: '{proxy}' is not an IP address."));
        foreach (var network in KnownNetworks)
            options.KnownIPNetworks.Add(System.Net.IPNetwork.TryParse(network, out var parsed) ? parsed
                : throw new InvalidOperationException($"{SectionName}:KnownNetworks: '{network}' is not a network in CIDR notation (e.g. 10.0.0.0/24)."));
        return options;
    }
}

public static class ReverseProxyExtensions
{
    /// <summary>First in the pipeline, so the address and scheme are the client's for everything after it.</summary>
    public static WebApplication UseKaapanaReverseProxy(this WebApplication app)
    {
        var options = app.Configuration.GetSection(ReverseProxyOptions.SectionName).Get<ReverseProxyOptions>() ?? new();
        if (options.IsConfigured) app.UseForwardedHeaders(options.ToForwardedHeadersOptions());
        return app;
    }
}
