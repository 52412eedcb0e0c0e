namespace Kaapana.Dicom;

/// <summary>Identity of this implementation in file meta information and association negotiation.</summary>
public static class DicomImplementation
{
    /// <summary>A UUID-derived UID (PS3.5 B.2, root 2.25) that is ours alone; fixed so peers can recognise us.</summary>
    public const string ClassUid = "2.25.118276394823651047920133961357427701357";

    /// <summary>At most 16 characters (SH).</summary>
    public const string VersionName = "KAAPANA_NET_1";
}
