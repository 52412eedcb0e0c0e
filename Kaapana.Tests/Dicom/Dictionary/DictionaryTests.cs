using System.Globalization;
using System.Reflection;
using System.Text.RegularExpressions;
using Kaapana.Dicom;

namespace Kaapana.Tests.Dicom.Dictionary;

/// <summary>
/// Checks the generated dictionary and UID registry against their source (pydicom's tables) and against
/// DCMTK's independent dictionary. The reference files come from Debian packages python3-pydicom and dcmtk;
/// a missing file fails the test on purpose, since skipping would let a stale table pass unnoticed.
/// </summary>
public class DictionaryTests
{
    private const string PydicomDir = "/usr/lib/python3/dist-packages/pydicom";
    private const string DcmtkDictionary = "/usr/share/libdcmtk17/dicom.dic";

    // A Python string literal as pydicom writes it: single quotes, or double quotes when the text has a "'".
    private static string Py(string group) => $"""(?:'(?<{group}>[^'\\]*)'|"(?<{group}>[^"\\]*)")""";

    private static readonly Regex DictLine = new(
        $@"^\s*(?:0x(?<tag>[0-9A-Fa-f]{{8}})|'(?<pattern>[0-9A-Fa-fx]{{8}})')\s*:\s*\(\s*{Py("vr")}\s*,\s*{Py("vm")}\s*,\s*{Py("name")}\s*,\s*{Py("retired")}\s*,\s*{Py("keyword")}\s*\)",
        RegexOptions.Multiline | RegexOptions.CultureInvariant);

    // Any line that looks like a dictionary key, so a row the strict pattern misses is noticed.
    private static readonly Regex DictKey = new(
        @"^\s*(?:0x[0-9A-Fa-f]{8}|'[0-9A-Fa-fx]{8}')\s*:", RegexOptions.Multiline | RegexOptions.CultureInvariant);

    private static readonly Regex UidLine = new(
        $@"^\s*'(?<uid>[0-9.]+)'\s*:\s*\(\s*{Py("name")}\s*,\s*{Py("type")}\s*,\s*{Py("info")}\s*,\s*{Py("retired")}\s*,\s*{Py("keyword")}\s*\)",
        RegexOptions.Multiline | RegexOptions.CultureInvariant);

    private static readonly Regex UidKey = new(@"^\s*'[0-9.]+'\s*:", RegexOptions.Multiline | RegexOptions.CultureInvariant);

    private sealed record SourceEntry(uint Value, uint Mask, string Pattern, DicomVR[] VRs, string VM, string Name, string Keyword, bool Retired);

    private static string ReadReference(string path, string package)
    {
        Assert.True(File.Exists(path), $"Reference file {path} is missing: install the Debian package '{package}'.");
        return File.ReadAllText(path);
    }

    private static List<SourceEntry> ReadPydicomDictionary()
    {
        var text = ReadReference(Path.Combine(PydicomDir, "_dicom_dict.py"), "python3-pydicom");
        var matches = DictLine.Matches(text);
        Assert.Equal(DictKey.Matches(text).Count, matches.Count);
        var entries = new List<SourceEntry>();
        foreach (Match m in matches)
        {
            string pattern = m.Groups["tag"].Success ? m.Groups["tag"].Value.ToUpperInvariant() : m.Groups["pattern"].Value;
            uint value = 0, mask = 0;
            foreach (char c in pattern)
            {
                value <<= 4;
                mask <<= 4;
                if (c == 'x') continue;
                value |= uint.Parse(c.ToString(), NumberStyles.HexNumber, CultureInfo.InvariantCulture);
                mask |= 0xF;
            }
            string vr = m.Groups["vr"].Value;
            var vrs = vr == "NONE" ? [] : vr.Split(" or ").Select(ParseVR).ToArray();
            entries.Add(new SourceEntry(value, mask, pattern, vrs, m.Groups["vm"].Value, m.Groups["name"].Value,
                m.Groups["keyword"].Value, m.Groups["retired"].Value == "Retired"));
        }
        return entries;
    }

    private static DicomVR ParseVR(string s)
    {
        Assert.True(DicomVRInfo.TryParse(s, out var vr), $"Unknown VR '{s}'");
        return vr;
    }

    [Fact]
    public void Dictionary_MatchesPydicomSource_EntryByEntry()
    {
        var source = ReadPydicomDictionary();
        var exact = source.Where(e => e.Mask == uint.MaxValue).ToList();
        var repeaters = source.Where(e => e.Mask != uint.MaxValue).ToList();
        Assert.True(exact.Count > 4000 && repeaters.Count > 50, $"Implausible source counts {exact.Count}/{repeaters.Count}");

        Assert.Equal(exact.Count, DicomDictionary.Count);
        Assert.Equal(repeaters.Count, DicomDictionary.RepeaterCount);
        var all = DicomDictionary.Entries.ToList();
        Assert.Equal(source.Count, all.Count);
        Assert.Equal(exact.Count, all.Count(e => !e.IsRepeater));

        var exactValues = exact.Select(e => e.Value).ToHashSet();
        var byPattern = all.Where(e => e.IsRepeater).ToDictionary(e => (e.Tag.Value, e.Mask));
        foreach (var s in source)
        {
            DicomDictionaryEntry? entry;
            if (s.Mask == uint.MaxValue)
            {
                entry = DicomDictionary.Lookup(new DicomTag(s.Value));
            }
            else
            {
                Assert.True(byPattern.TryGetValue((s.Value, s.Mask), out entry), $"Repeater {s.Pattern} missing");
                // Free nibbles set to 2 give an even (public) group, e.g. (6022,3000), and never element 0000.
                uint probe = s.Value | (0x22222222 & ~s.Mask);
                if (!exactValues.Contains(probe))
                    Assert.Same(entry, DicomDictionary.Lookup(new DicomTag(probe)));
            }
            Assert.NotNull(entry);
            string where = s.Pattern;
            Assert.True(s.Value == entry.Tag.Value, $"{where}: tag {entry.Tag}");
            Assert.True(s.Mask == entry.Mask, $"{where}: mask {entry.Mask:X8}");
            Assert.True(s.VRs.SequenceEqual(entry.VRs), $"{where}: VRs {string.Join('/', entry.VRs)}");
            Assert.True(s.VM == entry.VM, $"{where}: VM {entry.VM}");
            Assert.True(s.Name == entry.Name, $"{where}: name {entry.Name}");
            Assert.True(s.Keyword == entry.Keyword, $"{where}: keyword {entry.Keyword}");
            Assert.True(s.Retired == entry.IsRetired, $"{where}: retired {entry.IsRetired}");
        }
    }

    [Fact]
    public void Keywords_ResolveExactEntriesOnly_AndDicomTagsMatch()
    {
        var source = ReadPydicomDictionary();
        int fields = 0;
        foreach (var s in source.Where(e => e.Keyword.Length > 0))
        {
            bool found = DicomDictionary.TryGetTag(s.Keyword, out var tag);
            // Properties, not static readonly fields: 4,898 field initialisers made the first touch of DicomTags cost ~34 ms.
            var field = typeof(DicomTags).GetProperty(s.Keyword, BindingFlags.Public | BindingFlags.Static);
            if (s.Mask == uint.MaxValue)
            {
                Assert.True(found, $"keyword {s.Keyword}");
                Assert.Equal(s.Value, tag.Value);
                Assert.NotNull(field);
                Assert.False(field.CanWrite, s.Keyword);
                Assert.Equal(new DicomTag(s.Value), (DicomTag)field.GetValue(null)!);
                Assert.Equal(s.Retired, field.GetCustomAttribute<ObsoleteAttribute>() is not null);
                fields++;
            }
            else
            {
                // A repeater keyword names a family of tags, not one tag.
                Assert.False(found, $"repeater keyword {s.Keyword} resolved to {tag}");
                Assert.Null(field);
            }
        }
        Assert.Equal(fields, typeof(DicomTags).GetProperties(BindingFlags.Public | BindingFlags.Static).Length);
        Assert.False(DicomDictionary.TryGetTag("patientname", out _)); // keywords are case-sensitive
        Assert.False(DicomDictionary.TryGetTag("", out _));
    }

    [Fact]
    public void UidRegistry_MatchesPydicomSource()
    {
        var text = ReadReference(Path.Combine(PydicomDir, "_uid_dict.py"), "python3-pydicom");
        var matches = UidLine.Matches(text);
        Assert.Equal(UidKey.Matches(text).Count, matches.Count);
        Assert.True(matches.Count > 400, $"Implausible UID count {matches.Count}");
        Assert.Equal(matches.Count, DicomUidRegistry.Count);
        Assert.Equal(matches.Count, DicomUidRegistry.All.Count());

        int consts = 0;
        foreach (Match m in matches)
        {
            string uid = m.Groups["uid"].Value, keyword = m.Groups["keyword"].Value;
            bool retired = m.Groups["retired"].Value == "Retired";
            var info = DicomUidRegistry.Lookup(uid);
            Assert.NotNull(info);
            Assert.Equal(uid, info.Uid);
            Assert.Equal(m.Groups["name"].Value, info.Name);
            Assert.Equal(m.Groups["type"].Value, info.Type);
            Assert.Equal(keyword, info.Keyword);
            Assert.Equal(retired, info.IsRetired);
            Assert.Equal(info.Type == "Transfer Syntax", info.IsTransferSyntax);
            if (keyword.Length == 0) continue;
            var field = typeof(DicomUids).GetField(keyword, BindingFlags.Public | BindingFlags.Static);
            Assert.NotNull(field);
            Assert.True(field.IsLiteral, keyword);
            Assert.Equal(uid, field.GetRawConstantValue());
            Assert.Equal(retired, field.GetCustomAttribute<ObsoleteAttribute>() is not null);
            consts++;
        }
        Assert.Equal(consts, typeof(DicomUids).GetFields(BindingFlags.Public | BindingFlags.Static).Length);
    }

    [Fact]
    public void StorageSopClasses_AreExactlyPydicomsListPlusRetiredStorageClasses()
    {
        // pydicom generates the (active) Storage SOP Classes into uid.py below this marker.
        var text = ReadReference(Path.Combine(PydicomDir, "uid.py"), "python3-pydicom");
        const string marker = "# Only auto-generated Storage SOP Class UIDs below";
        int at = text.IndexOf(marker, StringComparison.Ordinal);
        Assert.True(at >= 0, "storage marker not found in pydicom/uid.py");
        var listed = Regex.Matches(text[at..], @"=\s*UID\('([0-9.]+)'\)").Select(m => m.Groups[1].Value).ToHashSet();
        Assert.True(listed.Count > 100, $"Implausible storage count {listed.Count}");

        var flagged = DicomUidRegistry.StorageSopClasses.ToList();
        Assert.Equal(DicomUidRegistry.All.Where(u => u.IsStorageSopClass), flagged);
        foreach (var uid in listed)
            Assert.True(DicomUidRegistry.Lookup(uid)?.IsStorageSopClass, uid);
        foreach (var extra in flagged.Where(u => !listed.Contains(u.Uid)))
        {
            Assert.True(extra.IsRetired && extra.Type == "SOP Class" && extra.Name.Contains("Storage"), extra.ToString());
            Assert.DoesNotContain("Storage Commitment", extra.Name);
        }
    }

    /// <summary>
    /// Tags where PS3.6 (pydicom) and DCMTK's dicom.dic legitimately disagree on the allowed VRs.
    /// </summary>
    private static readonly Dictionary<uint, string> KnownDcmtkDifferences = new()
    {
        // PS3.6 gives LUT Data "US or OW"; DCMTK types every LUT data element with its one 'lt'
        // pseudo-VR (US, SS or OW), which fits Gray LUT Data (0028,1200) but adds SS here.
        [0x00283006] = "LUT Data",
    };

    // DCMTK's lower-case pseudo-VRs (dcmdata/dcvr.h) stand for the PS3.6 alternatives.
    private static readonly Dictionary<string, DicomVR[]> DcmtkPseudoVRs = new()
    {
        ["xs"] = [DicomVR.US, DicomVR.SS],
        ["ox"] = [DicomVR.OB, DicomVR.OW],
        ["px"] = [DicomVR.OB, DicomVR.OW], // pixel data
        ["lt"] = [DicomVR.US, DicomVR.SS, DicomVR.OW], // LUT data
        ["up"] = [DicomVR.UL], // DICOMDIR offsets, UL in PS3.6
        ["na"] = [], // item and delimitation tags
    };

    [Fact]
    public void Dictionary_AgreesWithDcmtk_OnVRs()
    {
        var lines = ReadReference(DcmtkDictionary, "dcmtk").Split('\n');
        var tagPattern = new Regex(@"^\(([0-9A-F]{4}),([0-9A-F]{4})\)$");
        var differences = new Dictionary<uint, string>();
        int compared = 0;
        foreach (var raw in lines)
        {
            var line = raw.TrimEnd('\r');
            if (line.Length == 0 || line[0] == '#') continue;
            var f = line.Split('\t');
            Assert.True(f.Length >= 5, $"Unexpected dicom.dic line '{line}'");
            // Only standard entries; PRIVATE/GENERIC/ILLEGAL are DCMTK's own catch-alls.
            if (!f[4].StartsWith("DICOM", StringComparison.Ordinal)) continue;
            var m = tagPattern.Match(f[0]);
            if (!m.Success) continue; // a repeating range such as (6000-60FF,3000)
            var tag = new DicomTag(
                ushort.Parse(m.Groups[1].Value, NumberStyles.HexNumber, CultureInfo.InvariantCulture),
                ushort.Parse(m.Groups[2].Value, NumberStyles.HexNumber, CultureInfo.InvariantCulture));
            var entry = DicomDictionary.Lookup(tag);
            if (entry is null) continue; // newer than 2022a (DCMTK is 2022b)
            compared++;
            var dcmtk = DcmtkPseudoVRs.TryGetValue(f[1], out var mapped) ? mapped : [ParseVR(f[1])];
            if (!dcmtk.ToHashSet().SetEquals(entry.VRs))
                differences[tag.Value] = $"{tag} {entry.Keyword}: PS3.6 {string.Join('/', entry.VRs)}, DCMTK {f[1]}";
        }
        Assert.True(compared > 4500, $"Only {compared} DCMTK entries compared; is dicom.dic in the expected format?");
        // Exact set equality, so a fixed difference also shows up (as a stale entry in the list).
        Assert.True(KnownDcmtkDifferences.Keys.ToHashSet().SetEquals(differences.Keys),
            "Unexpected VR differences:\n" + string.Join("\n", differences.Values));
    }

    [Fact]
    public void SpotChecks()
    {
        var pn = DicomDictionary.Lookup(new DicomTag(0x0010, 0x0010));
        Assert.NotNull(pn);
        Assert.Equal([DicomVR.PN], pn.VRs);
        Assert.Equal("1", pn.VM);
        Assert.Equal("PatientName", pn.Keyword);
        Assert.Equal("Patient's Name", pn.Name);
        Assert.False(pn.IsRetired);
        Assert.Equal(DicomTags.PatientName, pn.Tag);

        var pixelData = DicomDictionary.Lookup(DicomTags.PixelData);
        Assert.NotNull(pixelData);
        Assert.Equal([DicomVR.OB, DicomVR.OW], pixelData.VRs);
        Assert.True(pixelData.IsAmbiguousVR);
        Assert.Equal(DicomVR.OB, pixelData.DefaultVR);

        var overlay = DicomDictionary.Lookup(new DicomTag(0x6002, 0x3000));
        Assert.NotNull(overlay);
        Assert.Equal("OverlayData", overlay.Keyword);
        Assert.Equal(0xFF00FFFFu, overlay.Mask);
        Assert.Equal("(60xx,3000)", overlay.FormatTag());
        Assert.Equal([DicomVR.OB, DicomVR.OW], overlay.VRs);

        var creator = DicomDictionary.Lookup(new DicomTag(0x0009, 0x0010));
        Assert.NotNull(creator);
        Assert.Equal(DicomVR.LO, creator.DefaultVR);
        Assert.Equal("PrivateCreator", creator.Keyword);
        // Odd groups are private even where an even-group repeater pattern (60xx,0010) would match.
        Assert.Equal("PrivateCreator", DicomDictionary.Lookup(new DicomTag(0x6001, 0x0010))?.Keyword);
        Assert.Null(DicomDictionary.Lookup(new DicomTag(0x0009, 0x1010)));
        Assert.Null(DicomDictionary.Lookup(new DicomTag(0x6001, 0x3000)));

        var groupLength = DicomDictionary.Lookup(new DicomTag(0x0028, 0x0000));
        Assert.NotNull(groupLength);
        Assert.Equal(DicomVR.UL, groupLength.DefaultVR);
        Assert.Equal("GroupLength", groupLength.Keyword);
        Assert.Equal("GroupLength", DicomDictionary.Lookup(new DicomTag(0x1010, 0x0000))?.Keyword); // not ZonalMap
        Assert.Equal("FileMetaInformationGroupLength", DicomDictionary.Lookup(new DicomTag(0x0002, 0x0000))?.Keyword);

        var item = DicomDictionary.Lookup(DicomTag.Item);
        Assert.NotNull(item);
        Assert.Empty(item.VRs);
        Assert.Equal(DicomVR.UN, item.DefaultVR);

        Assert.Equal(DicomVR.UN, DicomDictionary.GetDefaultVR(new DicomTag(0x0010, 0x0001)));
        Assert.Equal(DicomVR.US, DicomDictionary.GetDefaultVR(new DicomTag(0x0028, 0x0010)));

        Assert.Equal(DicomTag.Parse("PatientName"), DicomTag.Parse("(0010,0010)"));
        Assert.Equal(new DicomTag(0x0010, 0x0010), DicomTag.Parse("PatientName"));
        Assert.False(DicomTag.TryParse("OverlayData", out _));

        Assert.Equal("1.2.840.10008.1.2.1", DicomUids.ExplicitVRLittleEndian);
        Assert.True(DicomUidRegistry.Lookup(DicomUids.ExplicitVRLittleEndian)?.IsTransferSyntax);
        var ct = DicomUidRegistry.Lookup("1.2.840.10008.5.1.4.1.1.2");
        Assert.NotNull(ct);
        Assert.Equal("CT Image Storage", ct.Name);
        Assert.True(ct.IsStorageSopClass);
        Assert.False(ct.IsTransferSyntax);
        var verification = DicomUidRegistry.Lookup(DicomUids.Verification);
        Assert.NotNull(verification);
        Assert.Equal("SOP Class", verification.Type);
        Assert.False(verification.IsStorageSopClass);
        Assert.True(DicomUidRegistry.Lookup("1.2.840.10008.5.1.4.1.1.1.1")?.IsStorageSopClass); // "... Storage - For Presentation"
        Assert.False(DicomUidRegistry.Lookup(DicomUids.StorageCommitmentPushModel)?.IsStorageSopClass);
        Assert.Equal(ct, DicomUidRegistry.Lookup("1.2.840.10008.5.1.4.1.1.2\0")); // UI values are NUL-padded
        Assert.Null(DicomUidRegistry.Lookup("1.2.3.4"));
    }

    [Fact]
    public void Lookup_IsSafeUnderConcurrency()
    {
        var results = new DicomDictionaryEntry?[64];
        Parallel.For(0, results.Length, i => results[i] = DicomDictionary.Lookup(new DicomTag(0x0020, 0x000D)));
        Assert.All(results, r => Assert.Same(results[0], r));
        Assert.Equal("StudyInstanceUID", results[0]?.Keyword);
    }
}
