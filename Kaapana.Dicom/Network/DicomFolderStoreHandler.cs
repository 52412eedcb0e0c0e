using System.Text;

namespace Kaapana.Dicom.Network;

/// <summary>
/// A simple <see cref="IStoreHandler"/>: writes every instance as a Part 10 file <c>{folder}/{SOP Instance UID}.dcm</c>
/// (written to a temporary name, then renamed, so a half-received instance never appears under its real name).
/// </summary>
public sealed class DicomFolderStoreHandler(string folder) : IStoreHandler
{
    public string Folder { get; } = Path.GetFullPath(folder);

    public async ValueTask<DicomStatus> StoreAsync(DicomStoreRequest request, CancellationToken ct)
    {
        Directory.CreateDirectory(Folder);
        var name = SafeFileName(request.SopInstanceUid);
        var final = Path.Combine(Folder, name + ".dcm");
        var temp = Path.Combine(Folder, $".{name}.{Guid.NewGuid():N}.part");
        try
        {
            // Synchronous and unbuffered: each received fragment is one write into the page cache, cheaper than the thread-pool
            // hop of an asynchronous file write on Unix; the handler runs on the association's read loop.
            await using (var fs = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 0, FileOptions.None))
                await request.WritePart10Async(fs, ct).ConfigureAwait(false);
            File.Move(temp, final, overwrite: true);
            return DicomStatus.Success;
        }
        catch
        {
            File.Delete(temp);
            throw;
        }
    }

    /// <summary>UIDs are digits and dots; anything else (from a broken peer) is replaced so it cannot escape the folder.</summary>
    private static string SafeFileName(string uid)
    {
        var sb = new StringBuilder(uid.Length);
        foreach (var c in uid) sb.Append(char.IsAsciiDigit(c) || c == '.' ? c : '_');
        var s = sb.ToString().Trim('.');
        return s.Length == 0 ? "unnamed" : s;
    }
}
