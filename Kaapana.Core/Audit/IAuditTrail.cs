namespace Kaapana.Core.Audit;

/// <summary>
/// Where every part of the platform records who did what (DICOM associations, sign-ins, downloads, runs, permission
/// changes). <see cref="Record"/> never blocks and never throws: entries are queued and written in batches.
/// </summary>
public interface IAuditTrail
{
    void Record(AuditEvent entry);
}
