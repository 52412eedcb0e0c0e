namespace Kaapana.Core.Audit;

/// <summary>
/// One line of the audit trail: who (a user name or a DICOM AE title) did what to what, when, from where, and how it ended.
/// Append-only: nothing updates a row; only the retention purge deletes old ones.
/// </summary>
public sealed class AuditEntry
{
    public const int ActorMaxLength = 200, ActionMaxLength = 64, TargetMaxLength = 1000, OutcomeMaxLength = 16, SourceMaxLength = 64;

    public long Id { get; set; }

    /// <summary>UTC.</summary>
    public DateTime At { get; set; }

    public required string Actor { get; set; }

    /// <summary>Dotted name, e.g. <c>dicom.association.rejected</c> (<see cref="AuditActions"/>).</summary>
    public required string Action { get; set; }

    public string? Target { get; set; }

    /// <summary><see cref="AuditOutcomes"/>.</summary>
    public required string Outcome { get; set; }

    /// <summary>The peer's IP address.</summary>
    public string? SourceAddress { get; set; }

    /// <summary>Anything else, as a JSON object.</summary>
    public string? Details { get; set; }
}
