namespace Kaapana.Dicom;

/// <summary>
/// Registered UIDs of PS3.6 Annex A. The data lives in <c>DicomUids.Generated.cs</c>
/// (scripts/generate-dictionary.py) and is parsed once, on first use; all members are thread-safe.
/// </summary>
public static partial class DicomUidRegistry
{
    private static readonly Lazy<Tables> s_tables = new(() => new Tables(), LazyThreadSafetyMode.ExecutionAndPublication);

    public static int Count => GeneratedCount;

    /// <summary>All registered UIDs in PS3.6 order.</summary>
    public static IEnumerable<DicomUidInfo> All => s_tables.Value.All;

    /// <summary>Storage SOP Classes, retired ones included (see <see cref="DicomUidInfo.IsStorageSopClass"/>).</summary>
    public static IEnumerable<DicomUidInfo> StorageSopClasses => s_tables.Value.Storage;

    public static DicomUidInfo? Lookup(string uid)
    {
        if (string.IsNullOrEmpty(uid)) return null;
        // Values read from a data set may keep their padding byte (UI pads with NUL, PS3.5 6.2).
        uid = uid.TrimEnd('\0', ' ');
        return s_tables.Value.ByUid.TryGetValue(uid, out var info) ? info : null;
    }

    private sealed class Tables
    {
        // Read-only wrappers: the public properties hand these out, and callers must not edit the registry.
        public readonly IReadOnlyList<DicomUidInfo> All;
        public readonly IReadOnlyList<DicomUidInfo> Storage;
        public readonly Dictionary<string, DicomUidInfo> ByUid;

        public Tables()
        {
            var all = new DicomUidInfo[GeneratedCount];
            ByUid = new Dictionary<string, DicomUidInfo>(GeneratedCount, StringComparer.Ordinal);
            var storage = new List<DicomUidInfo>();
            var rest = Table;
            int n = 0;
            while (!rest.IsEmpty)
            {
                int nl = rest.IndexOf((byte)'\n');
                var line = (nl < 0 ? rest : rest[..nl]).TrimEnd((byte)'\r'); // CRLF checkouts put \r\n into the literal
                rest = nl < 0 ? default : rest[(nl + 1)..];
                if (line.IsEmpty) continue;

                var uid = NextField(ref line);
                var name = NextField(ref line);
                var type = NextField(ref line);
                var keyword = NextField(ref line);
                var flags = line; // the last field has no terminator
                if (flags.IndexOf((byte)'|') >= 0 || n == GeneratedCount) throw Corrupt();
                var info = new DicomUidInfo(
                    DicomDictionary.AsciiString(uid), DicomDictionary.AsciiString(name), DicomDictionary.AsciiString(type),
                    DicomDictionary.AsciiString(keyword), flags.Contains((byte)'R'))
                {
                    IsStorageSopClass = flags.Contains((byte)'S'),
                };
                all[n++] = info;
                ByUid.Add(info.Uid, info);
                if (info.IsStorageSopClass) storage.Add(info);
            }
            if (n != GeneratedCount) throw Corrupt();
            All = Array.AsReadOnly(all);
            Storage = storage.AsReadOnly();
        }

        private static ReadOnlySpan<byte> NextField(ref ReadOnlySpan<byte> line)
        {
            int bar = line.IndexOf((byte)'|');
            if (bar < 0) throw Corrupt();
            var field = line[..bar];
            line = line[(bar + 1)..];
            return field;
        }

        private static InvalidOperationException Corrupt() =>
            new("The generated UID table is corrupt; re-run scripts/generate-dictionary.py.");
    }
}
