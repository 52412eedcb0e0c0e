namespace Kaapana.Core.Access.Dicom;

/// <summary>
/// One grant of the DICOM door: peers calling <see cref="CalledAE"/> as <see cref="CallingAE"/> (optionally only from
/// <see cref="PeerAddress"/>) may use the services flagged. Rules only grant; a peer's rights are the union of every rule
/// that matches it plus the defaults (<see cref="DicomAccessOptions"/>). Titles are exact (case-sensitive, padding ignored) or <c>*</c>.
/// </summary>
public sealed class DicomAccessRule
{
    public int Id { get; set; }

    /// <summary>Our AE title the rule is for: the default AE title, a receiving endpoint's, or <c>*</c> (any of ours).</summary>
    public required string CalledAE { get; set; }

    /// <summary>The peer's AE title, or <c>*</c> (any).</summary>
    public required string CallingAE { get; set; }

    /// <summary>An IP address or CIDR block (<c>10.0.0.0/8</c>, <c>2001:db8::/32</c>); null: any address.</summary>
    public string? PeerAddress { get; set; }

    public bool AllowStore { get; set; }
    public bool AllowFind { get; set; }
    public bool AllowMove { get; set; }
    public bool AllowGet { get; set; }

    public string? Description { get; set; }

    /// <summary>UTC.</summary>
    public DateTime CreatedAt { get; set; }
}
