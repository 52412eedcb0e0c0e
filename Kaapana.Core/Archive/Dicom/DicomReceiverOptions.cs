namespace Kaapana.Core.Archive.Dicom;

/// <summary>
/// The server's DICOM application entity, bound from <c>Kaapana:Dicom</c> (env: <c>Kaapana__Dicom__*</c>): where it listens,
/// the AE title it answers to, and the remote nodes C-MOVE may send to.
/// </summary>
public sealed class DicomReceiverOptions
{
    public const string SectionName = "Kaapana:Dicom";

    /// <summary>False: no DICOM listener at all.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>
    /// Address to listen on. Default all IPv4 interfaces: a hospital PACS or modality pushes to this port. Use
    /// <c>127.0.0.1</c> to keep it on the machine.
    /// </summary>
    public string BindAddress { get; set; } = "0.0.0.0";

    public int Port { get; set; } = 11112;

    /// <summary>
    /// The server's own AE title. Null: <see cref="ArchiveOptions.DefaultAETitle"/>. Every receiving endpoint's AE title
    /// (<see cref="ArchiveOptions.ReceivingEndpoints"/> and those set at run time) is answered too; other called AE titles are
    /// rejected at association time unless <see cref="AcceptAnyCalledAE"/>.
    /// </summary>
    public string? AETitle { get; set; }

    /// <summary>Accept associations whatever AE title they call (data then goes to the default project).</summary>
    public bool AcceptAnyCalledAE { get; set; }

    /// <summary>Calling AE titles allowed to associate. Empty: any.</summary>
    public string[] AllowedCallingAETitles { get; set; } = [];

    public int MaxAssociations { get; set; } = 64;

    /// <summary>How often receiving endpoints added at run time are picked up as called AE titles.</summary>
    public TimeSpan EndpointRefreshInterval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Remote nodes from configuration (read-only; more are added at run time, see <see cref="IRemoteNodeDirectory"/>): <c>Kaapana:Dicom:RemoteNodes:0:AETitle=PACS</c>, <c>...:0:Host=10.0.0.5</c>, <c>...:0:Port=104</c>.</summary>
    public List<RemoteNodeOptions> RemoteNodes { get; set; } = [];
}

/// <summary>A remote DICOM node: AE title and network address.</summary>
public sealed class RemoteNodeOptions
{
    public string AETitle { get; set; } = "";
    public string Host { get; set; } = "";
    public int Port { get; set; } = 104;
}
