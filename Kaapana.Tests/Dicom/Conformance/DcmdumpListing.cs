using System.Globalization;
using System.Text.RegularExpressions;

namespace Kaapana.Tests.Dicom.Conformance;

/// <summary>One line of <c>dcmdump</c> output.</summary>
/// <param name="Vr">As printed, including DCMTK's pseudo VRs (na, pi, up, ??, xs, ox, lt).</param>
/// <param name="Value">The value part as printed: <c>[text]</c>, numbers, hex bytes, <c>(no value available)</c>, <c>(Sequence with ... #=n)</c>...</param>
/// <param name="Length">Value length, null for "u/l" (undefined length).</param>
/// <param name="Count">The <c>#=n</c> of a sequence, item or pixel sequence line.</param>
public sealed record DcmdumpEntry(bool IsMeta, int Depth, uint Tag, string Vr, string Value, long? Length, int VM, int? Count, string Name, int LineNumber)
{
    public override string ToString() =>
        $"{(IsMeta ? "meta " : "")}{new string(' ', 2 * Depth)}({Tag >> 16:X4},{Tag & 0xFFFF:X4}) {Vr} {Value} # {Length?.ToString(CultureInfo.InvariantCulture) ?? "u/l"}, {VM} {Name}";
}

/// <summary>
/// Parses the output of <c>dcmdump +F +L -Un +Qo ...</c>: per input file, its element lines (file meta information and
/// data set). Lines that are neither elements, headers nor DCMTK comments are reported, not skipped.
/// </summary>
public static partial class DcmdumpListing
{
    /// <summary>
    /// Flags used for every listing: +F filename headers (many files per run), +L long values in full, -Un UIDs as numbers
    /// rather than names, +Qo non-ASCII bytes and control characters as octal (so every element is one line and the bytes are
    /// unambiguous), -dc no automatic data correction (show the file as it is). Not used: +E/+Ep (a listing DCMTK produces
    /// from a file it calls damaged is no reference), -M (values must be loaded to be compared), +U8 (charset files are
    /// converted with dcmconv +U8 instead, as a file).
    /// </summary>
    public static readonly string[] Flags = ["+F", "+L", "-Un", "+Qo", "-dc"];

    [GeneratedRegex(@"^(?<indent> *)\((?<g>[0-9a-f]{4}),(?<e>[0-9a-f]{4})\) (?<vr>\S\S) (?<rest>.*)$")]
    private static partial Regex ElementLine();

    [GeneratedRegex(@"^(?<value>.*?)\s+#\s*(?<len>\d+|u/l),\s*(?<vm>\d+)\s+(?<name>[^#]*)$")]
    private static partial Regex Trailer();

    [GeneratedRegex(@"^# dcmdump \((?<i>\d+)/(?<n>\d+)\): (?<file>.*)$")]
    private static partial Regex FileHeader();

    [GeneratedRegex(@"#=(?<n>\d+)")]
    private static partial Regex CountMark();

    public sealed class FileListing
    {
        public List<DcmdumpEntry> Entries { get; } = [];
        public List<string> UnparsedLines { get; } = [];
        public bool SawDataSetHeader { get; set; }
    }

    /// <summary>Listings by file name as passed to dcmdump. A file dcmdump could not read has a header and no entries.</summary>
    public static Dictionary<string, FileListing> Parse(string output)
    {
        var result = new Dictionary<string, FileListing>(StringComparer.Ordinal);
        FileListing? current = null;
        bool meta = false;
        int lineNo = 0;
        foreach (var raw in output.Split('\n'))
        {
            lineNo++;
            var line = raw.TrimEnd('\r');
            var fh = FileHeader().Match(line);
            if (fh.Success)
            {
                current = new FileListing();
                result[fh.Groups["file"].Value] = current;
                meta = false;
                continue;
            }
            if (current is null) continue;
            var trimmed = line.TrimStart();
            if (trimmed.Length == 0) continue;
            if (trimmed.StartsWith('#'))
            {
                if (line == "# Dicom-Meta-Information-Header") meta = true;
                else if (line == "# Dicom-Data-Set") { meta = false; current.SawDataSetHeader = true; }
                // "# Used TransferSyntax", "# Dicom-File-Format" and DICOMDIR "#  offset=$..." comments carry no elements.
                continue;
            }
            var m = ElementLine().Match(line);
            var t = m.Success ? Trailer().Match(m.Groups["rest"].Value) : Match.Empty;
            if (!m.Success || !t.Success)
            {
                current.UnparsedLines.Add($"{lineNo}: {line}");
                continue;
            }
            var tag = uint.Parse(m.Groups["g"].Value + m.Groups["e"].Value, NumberStyles.HexNumber, CultureInfo.InvariantCulture);
            var value = t.Groups["value"].Value;
            var count = CountMark().Match(value);
            current.Entries.Add(new DcmdumpEntry(
                meta,
                m.Groups["indent"].Value.Length / 2,
                tag,
                m.Groups["vr"].Value,
                value,
                t.Groups["len"].Value == "u/l" ? null : long.Parse(t.Groups["len"].Value, CultureInfo.InvariantCulture),
                int.Parse(t.Groups["vm"].Value, CultureInfo.InvariantCulture),
                count.Success && value.StartsWith('(') || count.Success && value.StartsWith('"') ? int.Parse(count.Groups["n"].Value, CultureInfo.InvariantCulture) : null,
                t.Groups["name"].Value.Trim(),
                lineNo));
        }
        return result;
    }

    /// <summary>Runs dcmdump on many files at once (one process) and parses the result.</summary>
    public static Dictionary<string, FileListing> Dump(IEnumerable<string> paths, params string[] extraFlags)
    {
        var files = paths.ToList();
        var result = new Dictionary<string, FileListing>(StringComparer.Ordinal);
        // Chunks keep command lines short.
        foreach (var chunk in files.Chunk(100))
        {
            var run = ExternalTools.Run("dcmdump", Flags.Concat(extraFlags).Concat(chunk));
            foreach (var (k, v) in Parse(run.Text)) result[k] = v;
        }
        return result;
    }
}
