namespace Kaapana.Dicom;

/// <summary>A registered UID from PS3.6 Annex A.</summary>
/// <param name="Type">The PS3.6 UID type, e.g. "SOP Class", "Transfer Syntax", "Well-known SOP Instance".</param>
/// <param name="Keyword">PS3.6 keyword; empty for the few retired UIDs that have none.</param>
public sealed record DicomUidInfo(string Uid, string Name, string Type, string Keyword, bool IsRetired)
{
    /// <summary>
    /// A Storage SOP Class (PS3.4 Annex B), including retired ones, which still arrive from old archives.
    /// Set by the registry from pydicom's generated storage list, since names alone are not reliable
    /// (e.g. "... Storage - For Presentation", or "Storage Commitment" which is not storage).
    /// </summary>
    public bool IsStorageSopClass { get; init; }

    public bool IsTransferSyntax => Type == "Transfer Syntax";

    public override string ToString() => $"{Uid} {Name}{(IsRetired ? " (Retired)" : "")}";
}
