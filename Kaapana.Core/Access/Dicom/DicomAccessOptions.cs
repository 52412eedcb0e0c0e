namespace Kaapana.Core.Access.Dicom;

/// <summary>
/// Defaults of the DICOM door, bound from <c>Kaapana:Dicom:Access</c> (env: <c>Kaapana__Dicom__Access__*</c>). On top of
/// them the rules in the index (<see cref="DicomAccessRule"/>, edited at <c>/admin/dicom-access</c> or <c>/api/dicom-access</c>) grant more.
/// </summary>
public sealed class DicomAccessOptions
{
    public const string SectionName = "Kaapana:Dicom:Access";

    /// <summary>
    /// Peers connecting from a loopback address may store, find, move and get, whatever their AE title: keeps the tools on
    /// the server's own machine (and the tests) working. Turn off on a shared host.
    /// </summary>
    public bool LoopbackMayDoEverything { get; set; } = true;

    /// <summary>A peer whose calling AE title is a configured remote node may store (a PACS the admin added pushes studies).</summary>
    public bool RemoteNodesMayStore { get; set; } = true;

    /// <summary>What C-FIND/C-MOVE/C-GET through the server's default AE title see. Receiving endpoints always see only their project.</summary>
    public DefaultAEScope DefaultAEScope { get; set; } = DefaultAEScope.AllProjects;
}

public enum DefaultAEScope
{
    /// <summary>Every project's data.</summary>
    AllProjects,

    /// <summary>Only the default project's data (<c>Kaapana:Archive:DefaultProject</c>).</summary>
    DefaultProject,
}
