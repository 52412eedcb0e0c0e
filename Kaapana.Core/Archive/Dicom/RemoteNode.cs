namespace Kaapana.Core.Archive.Dicom;

/// <summary>A remote DICOM node added at run time (admin page or <c>/api/remote-nodes</c>); configured ones live in <see cref="DicomReceiverOptions.RemoteNodes"/>.</summary>
public sealed class RemoteNode
{
    public int Id { get; set; }
    public required string AETitle { get; set; }
    public required string Host { get; set; }
    public int Port { get; set; }
    public string? Description { get; set; }
}
