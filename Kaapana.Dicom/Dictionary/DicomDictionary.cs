using System.Buffers;
using System.Numerics;
using System.Text;

namespace Kaapana.Dicom;

/// <summary>
/// The PS3.6 data dictionary (public tags). The data lives in <c>DicomDictionary.Generated.cs</c>
/// (scripts/generate-dictionary.py) as one byte table, indexed on first use; all members are thread-safe.
/// </summary>
public static partial class DicomDictionary
{
    private static readonly DicomVR[] s_ul = [DicomVR.UL];
    private static readonly DicomVR[] s_lo = [DicomVR.LO];

    // Lazy<T> rather than a static constructor so that touching the class (e.g. StandardEdition)
    // does no work, and so that indexing happens exactly once under contention.
    private static readonly Lazy<Index> s_index = new(() => new Index(), LazyThreadSafetyMode.ExecutionAndPublication);

    // Separate because only keyword parsing needs the ~5,000 keyword strings; tag lookups should not pay for them.
    private static readonly Lazy<Dictionary<string, DicomTag>> s_keywords =
        new(BuildKeywordIndex, LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>Number of exact (non-repeating) entries.</summary>
    public static int Count => GeneratedEntryCount;

    /// <summary>Number of repeating-group entries such as (60xx,3000).</summary>
    public static int RepeaterCount => GeneratedRepeaterCount;

    /// <summary>All table entries: exact ones in tag order, then the repeaters.</summary>
    public static IEnumerable<DicomDictionaryEntry> Entries
    {
        get
        {
            var index = s_index.Value;
            for (int row = 0; row < index.RowCount; row++) yield return index.Entry(row);
        }
    }

    /// <summary>
    /// The entry for <paramref name="tag"/>: an exact entry, else a synthesized Group Length or Private Creator
    /// entry, else a repeating-group entry; null for other private tags and unknown public tags.
    /// A repeater match returns the shared repeater entry, whose <see cref="DicomDictionaryEntry.Tag"/> is the pattern.
    /// </summary>
    public static DicomDictionaryEntry? Lookup(DicomTag tag)
    {
        var index = s_index.Value;
        if (index.Exact.TryGetValue(tag.Value, out int row)) return index.Entry(row);

        // Group length is defined for every group (PS3.5 7.2), private ones included; it must be tested
        // before the repeaters because (1010,xxxx) would otherwise claim (1010,0000).
        if (tag.IsGroupLength) return new(tag, DicomDictionaryEntry.ExactMask, s_ul, "1", "Group Length", "GroupLength", false);

        // Private tags before the repeaters: repeating groups are even only (PS3.5 7.6), yet the
        // 'xx' patterns would also match odd groups, e.g. (6001,0010) is a private creator, not Overlay Rows.
        if (tag.IsPrivate)
            return tag.IsPrivateCreator
                ? new(tag, DicomDictionaryEntry.ExactMask, s_lo, "1", "Private Creator", "PrivateCreator", false)
                : null;

        foreach (int r in index.RepeaterRows)
            if ((tag.Value & index.Masks[r]) == index.Values[r]) return index.Entry(r);
        return null;
    }

    /// <summary>The tag for a PS3.6 keyword (case-sensitive). Repeater keywords name no single tag, so they fail.</summary>
    public static bool TryGetTag(string keyword, out DicomTag tag)
    {
        tag = default;
        return keyword is not null && s_keywords.Value.TryGetValue(keyword, out tag);
    }

    /// <summary>The VR implied by the dictionary (first listed when several are allowed); UN when the tag is unknown.</summary>
    public static DicomVR GetDefaultVR(DicomTag tag) => Lookup(tag)?.DefaultVR ?? DicomVR.UN;

    private static Dictionary<string, DicomTag> BuildKeywordIndex()
    {
        var index = s_index.Value;
        var keywords = new Dictionary<string, DicomTag>(GeneratedEntryCount, StringComparer.Ordinal);
        for (int row = 0; row < index.RowCount; row++)
        {
            if (index.Masks[row] != DicomDictionaryEntry.ExactMask) continue;
            var fields = Fields.Of(index.Row(row));
            if (fields.Keyword.IsEmpty) continue;
            keywords.Add(AsciiString(fields.Keyword), new DicomTag(index.Values[row]));
        }
        return keywords;
    }

    /// <summary>
    /// Row positions and tags of <see cref="Table"/>. Entries are materialized per row on first request,
    /// because building all ~5,000 records and their strings up front dominated the first lookup.
    /// </summary>
    private sealed class Index
    {
        public readonly int RowCount;
        public readonly uint[] Values;
        public readonly uint[] Masks;
        public readonly Dictionary<uint, int> Exact;
        public readonly int[] RepeaterRows;
        private readonly int[] _starts;
        private readonly int[] _lengths;
        private readonly DicomDictionaryEntry?[] _entries;

        public Index()
        {
            const int rows = GeneratedEntryCount + GeneratedRepeaterCount;
            Values = new uint[rows];
            Masks = new uint[rows];
            _starts = new int[rows];
            _lengths = new int[rows];
            _entries = new DicomDictionaryEntry?[rows];
            Exact = new Dictionary<uint, int>(GeneratedEntryCount);
            RepeaterRows = new int[GeneratedRepeaterCount];

            var table = Table;
            int pos = 0, n = 0, repeaters = 0;
            while (pos < table.Length)
            {
                int nl = table[pos..].IndexOf((byte)'\n');
                int len = nl < 0 ? table.Length - pos : nl;
                var line = table.Slice(pos, len).TrimEnd((byte)'\r'); // a CRLF checkout puts \r\n into the raw literal
                if (!line.IsEmpty)
                {
                    if (n == rows) throw Corrupt($"more than {rows} rows");
                    var (value, mask) = ParsePattern(line);
                    Values[n] = value;
                    Masks[n] = mask;
                    _starts[n] = pos;
                    _lengths[n] = line.Length;
                    if (mask == DicomDictionaryEntry.ExactMask) Exact.Add(value, n);
                    else if (repeaters < RepeaterRows.Length) RepeaterRows[repeaters++] = n;
                    else throw Corrupt("too many repeaters");
                    n++;
                }
                pos += len + 1;
            }
            if (Exact.Count != GeneratedEntryCount || repeaters != GeneratedRepeaterCount)
                throw Corrupt($"{Exact.Count} entries and {repeaters} repeaters, expected {GeneratedEntryCount} and {GeneratedRepeaterCount}");
            RowCount = n;

            // Most specific pattern first, so a narrower pattern would win if PS3.6 ever had overlapping ones.
            // Insertion sort: 88 items, and LINQ's generic sort machinery cost milliseconds of JIT on first use.
            for (int i = 1; i < RepeaterRows.Length; i++)
            {
                int r = RepeaterRows[i], j = i - 1;
                while (j >= 0 && BitOperations.PopCount(Masks[RepeaterRows[j]]) < BitOperations.PopCount(Masks[r]))
                {
                    RepeaterRows[j + 1] = RepeaterRows[j];
                    j--;
                }
                RepeaterRows[j + 1] = r;
            }
        }

        public ReadOnlySpan<byte> Row(int row) => Table.Slice(_starts[row], _lengths[row]);

        public DicomDictionaryEntry Entry(int row)
        {
            var entry = Volatile.Read(ref _entries[row]);
            if (entry is not null) return entry;
            var f = Fields.Of(Row(row));
            entry = new DicomDictionaryEntry(new DicomTag(Values[row]), Masks[row], ParseVRs(f.VRs),
                AsciiString(f.VM), AsciiString(f.Name), AsciiString(f.Keyword),
                f.Retired);
            // Racing threads may both build a row; everyone keeps the first published instance.
            return Interlocked.CompareExchange(ref _entries[row], entry, null) ?? entry;
        }

        /// <summary>"0010xxxx" -> value 0x00100000, mask 0xFFFF0000.</summary>
        private static (uint Value, uint Mask) ParsePattern(ReadOnlySpan<byte> line)
        {
            if (line.Length < 9 || line[8] != '|') throw Corrupt($"bad row '{AsciiString(line)}'");
            uint value = 0, mask = 0;
            for (int i = 0; i < 8; i++)
            {
                byte c = line[i];
                value <<= 4;
                mask <<= 4;
                if (c == 'x') continue;
                value |= c switch
                {
                    >= (byte)'0' and <= (byte)'9' => (uint)(c - '0'),
                    >= (byte)'A' and <= (byte)'F' => (uint)(c - 'A' + 10),
                    _ => throw Corrupt($"bad tag in row '{AsciiString(line)}'"),
                };
                mask |= 0xF;
            }
            return (value, mask);
        }

        private static DicomVR[] ParseVRs(ReadOnlySpan<byte> text)
        {
            // "US/SS/OW" -> [US, SS, OW]; "" -> [] (item delimiters have no VR).
            var vrs = new DicomVR[(text.Length + 1) / 3];
            for (int i = 0; i < vrs.Length; i++)
                vrs[i] = ParseVR(text[3 * i], text[3 * i + 1]);
            return vrs;
        }

        // A switch rather than DicomVRInfo.TryParse: its Enum.TryParse took ~4 ms on first use (enum
        // metadata), which would be most of the first lookup. An unknown code fails the dictionary tests.
        private static DicomVR ParseVR(byte a, byte b) => (a << 8 | b) switch
        {
            'A' << 8 | 'E' => DicomVR.AE, 'A' << 8 | 'S' => DicomVR.AS, 'A' << 8 | 'T' => DicomVR.AT,
            'C' << 8 | 'S' => DicomVR.CS, 'D' << 8 | 'A' => DicomVR.DA, 'D' << 8 | 'S' => DicomVR.DS,
            'D' << 8 | 'T' => DicomVR.DT, 'F' << 8 | 'D' => DicomVR.FD, 'F' << 8 | 'L' => DicomVR.FL,
            'I' << 8 | 'S' => DicomVR.IS, 'L' << 8 | 'O' => DicomVR.LO, 'L' << 8 | 'T' => DicomVR.LT,
            'O' << 8 | 'B' => DicomVR.OB, 'O' << 8 | 'D' => DicomVR.OD, 'O' << 8 | 'F' => DicomVR.OF,
            'O' << 8 | 'L' => DicomVR.OL, 'O' << 8 | 'V' => DicomVR.OV, 'O' << 8 | 'W' => DicomVR.OW,
            'P' << 8 | 'N' => DicomVR.PN, 'S' << 8 | 'H' => DicomVR.SH, 'S' << 8 | 'L' => DicomVR.SL,
            'S' << 8 | 'Q' => DicomVR.SQ, 'S' << 8 | 'S' => DicomVR.SS, 'S' << 8 | 'T' => DicomVR.ST,
            'S' << 8 | 'V' => DicomVR.SV, 'T' << 8 | 'M' => DicomVR.TM, 'U' << 8 | 'C' => DicomVR.UC,
            'U' << 8 | 'I' => DicomVR.UI, 'U' << 8 | 'L' => DicomVR.UL, 'U' << 8 | 'N' => DicomVR.UN,
            'U' << 8 | 'R' => DicomVR.UR, 'U' << 8 | 'S' => DicomVR.US, 'U' << 8 | 'T' => DicomVR.UT,
            'U' << 8 | 'V' => DicomVR.UV,
            _ => throw Corrupt($"unknown VR '{(char)a}{(char)b}'"),
        };
    }

    /// <summary>The fields of one row: tag|VRs|VM|name|keyword|R.</summary>
    private readonly ref struct Fields
    {
        public ReadOnlySpan<byte> VRs { get; private init; }
        public ReadOnlySpan<byte> VM { get; private init; }
        public ReadOnlySpan<byte> Name { get; private init; }
        public ReadOnlySpan<byte> Keyword { get; private init; }
        public bool Retired { get; private init; }

        public static Fields Of(ReadOnlySpan<byte> row)
        {
            var rest = row;
            Next(ref rest, row); // tag, already parsed by the index
            return new Fields
            {
                VRs = Next(ref rest, row),
                VM = Next(ref rest, row),
                Name = Next(ref rest, row),
                Keyword = Next(ref rest, row),
                Retired = rest.SequenceEqual("R"u8),
            };
        }

        private static ReadOnlySpan<byte> Next(scoped ref ReadOnlySpan<byte> rest, ReadOnlySpan<byte> row)
        {
            int bar = rest.IndexOf((byte)'|');
            if (bar < 0) throw Corrupt($"short row '{AsciiString(row)}'");
            var field = rest[..bar];
            rest = rest[(bar + 1)..];
            return field;
        }
    }

    /// <summary>The generator guarantees ASCII; widening directly avoids initializing an Encoding on first lookup.</summary>
    internal static string AsciiString(ReadOnlySpan<byte> bytes)
    {
        if (bytes.IsEmpty) return "";
        Span<char> chars = bytes.Length <= 256 ? stackalloc char[256] : new char[bytes.Length];
        if (Ascii.ToUtf16(bytes, chars, out int written) != OperationStatus.Done) throw Corrupt("non-ASCII text");
        return new string(chars[..written]);
    }

    private static InvalidOperationException Corrupt(string what) =>
        new($"The generated dictionary table is corrupt ({what}); re-run scripts/generate-dictionary.py.");
}
