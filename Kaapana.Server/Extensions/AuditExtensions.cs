using Kaapana.Core.Audit;

namespace Kaapana.Server.Extensions;

public static class AuditExtensions
{
    /// <summary>
    /// The audit trail (<see cref="IAuditTrail"/>, settings <c>Kaapana:Audit:*</c>): a batched writer and the retention purge.
    /// Register after the index and before anything that records (the DICOM receiver): hosted services start in registration
    /// order and stop in reverse, so the writer drains what the receiver recorded last.
    /// </summary>
    public static IHostApplicationBuilder AddKaapanaAudit(this IHostApplicationBuilder builder)
    {
        var services = builder.Services;
        services.Configure<AuditOptions>(builder.Configuration.GetSection(AuditOptions.SectionName));
        services.AddSingleton<AuditWriter>();
        services.AddSingleton<IAuditTrail>(sp => sp.GetRequiredService<AuditWriter>());
        services.AddHostedService(sp => sp.GetRequiredService<AuditWriter>());
        services.AddSingleton<AuditPurge>();
        services.AddHostedService(sp => sp.GetRequiredService<AuditPurge>());
        services.AddSingleton<AuditQuery>();
        return builder;
    }
}
