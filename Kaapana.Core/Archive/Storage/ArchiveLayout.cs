using System.Security.Cryptography;
using System.Text;

namespace Kaapana.Core.Archive.Storage;

/// <summary>
/// The storage keys of instances (documented in Archive/README.md):
/// <c>instances/{st[0..2]}/{st}/{se}/{sop}.{content[0..12]}.dcm</c>, where <c>st</c>, <c>se</c> and <c>sop</c> are the first
/// 16 hex digits of the SHA-256 of the Study, Series and SOP Instance UID, and <c>content</c> is the instance's content hash.
/// Hashing gives short, fixed-length names that are safe on every file system whatever a sender put into a UID; the
/// content part lets a replacement be written beside the instance it replaces, so the switch is the index commit alone.
/// </summary>
public static class ArchiveLayout
{
    public const string InstancesFolder = "instances";
    public const string Extension = ".dcm";

    public static string InstanceKey(string studyUid, string seriesUid, string sopInstanceUid, string contentHash)
    {
        var st = UidHash(studyUid);
        return $"{InstancesFolder}/{st[..2]}/{st}/{UidHash(seriesUid)}/{UidHash(sopInstanceUid)}.{contentHash[..12]}{Extension}";
    }

    /// <summary>First 16 hex digits (64 bits) of SHA-256 over the UID's ASCII bytes, lower case.</summary>
    public static string UidHash(string uid)
    {
        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(Encoding.ASCII.GetBytes(uid), hash);
        return Convert.ToHexStringLower(hash[..8]);
    }

    public static bool IsInstanceKey(string key) =>
        key.StartsWith(InstancesFolder + "/", StringComparison.Ordinal) && key.EndsWith(Extension, StringComparison.Ordinal);
}
