using System.Text;
using Kaapana.Dicom;

namespace Kaapana.Tests.Dicom.Text;

/// <summary>
/// Every character of a repertoire, written into one UT value (one character per line), converted with DCMTK's
/// dcmconv +U8 and compared line by line with our decoding. This checks our tables (built from .NET code pages plus a few
/// overrides) against iconv, which DCMTK uses, for sets the pydicom sample files do not cover.
/// </summary>
public sealed class CharacterTableTests : IDisposable
{
    /// <summary>
    /// Not swept, because Debian's DCMTK 3.6.7 cannot serve as the reference: ISO_IR 203 (not supported by that version),
    /// ISO_IR 13 / ISO 2022 IR 13 (glibc's JIS_X0201 converter rejects the katakana bytes and reads 0x5C as YEN SIGN, where we
    /// keep the DICOM delimiter), ISO 2022 IR 87 / IR 159 (no glibc converter). Unit tests in CharacterSetTests cover them.
    /// </summary>
    public static TheoryData<string> Terms() =>
    [
        "ISO_IR 100", "ISO_IR 101", "ISO_IR 109", "ISO_IR 110", "ISO_IR 144", "ISO_IR 127", "ISO_IR 126", "ISO_IR 138",
        "ISO_IR 148", "ISO_IR 166", "\\ISO 2022 IR 149", "\\ISO 2022 IR 58", "GBK", "GB18030",
    ];

    /// <summary>
    /// GB18030 codes glibc maps to CJK Extension B characters; GB18030-2022 still assigns them to the Private Use Area,
    /// which is what we (and .NET) decode. The 19 codes the 2005 and 2022 editions did move are swept and must agree.
    /// </summary>
    private static readonly HashSet<string> Gb18030GlibcOnlyMappings = ["FE51", "FE52", "FE53", "FE6C", "FE76", "FE91"];

    private readonly string _tempDirectory = Directory.CreateTempSubdirectory("kaapana-charset-table-").FullName;

    public void Dispose() => Directory.Delete(_tempDirectory, recursive: true);

    [Theory]
    [MemberData(nameof(Terms))]
    public void EveryCharacterDecodesLikeDcmtk(string term)
    {
        var charset = DicomCharacterSet.FromTerms(term.Split('\\'));
        Assert.Empty(charset.Warnings);
        // Only characters we both read and write: DCMTK rejects a whole file on one invalid byte, and the codes we read but
        // never write (vendor extensions such as GBK's cells inside GB 2312) are outside the standard sets iconv knows.
        var lines = Candidates(term, charset).Where(bytes => charset.Decode(bytes, DicomVR.UT) is var text
            && !text.Contains('\uFFFD') && charset.Encode(text, DicomVR.UT).AsSpan().SequenceEqual(bytes)).ToList();
        Assert.True(lines.Count >= MinimumCount(term), $"{term}: only {lines.Count} characters decode");

        var value = new List<byte>();
        foreach (var line in lines) value.AddRange([.. line, (byte)'\n']);
        var input = Path.Combine(_tempDirectory, "in.dcm");
        var output = Path.Combine(_tempDirectory, "out.dcm");
        TestOnlyDicomWriter.Write(input, term, [.. value]);

        var (success, log) = Dcmtk.ConvertToUtf8(input, output);
        Assert.True(success, $"dcmconv +U8 failed for {term}:\n{log}");
        var converted = TestOnlyDicomWalker.ReadTopLevel(output).Single(e => e.Tag == TestOnlyDicomWriter.TextTag);
        var dcmtkLines = Encoding.UTF8.GetString(converted.Value).TrimEnd(' ').Split('\n');
        Assert.Equal(lines.Count + 1, dcmtkLines.Length);

        var differences = new List<string>();
        for (int i = 0; i < lines.Count; i++)
        {
            var ours = charset.Decode(lines[i], DicomVR.UT);
            if (ours != dcmtkLines[i]) differences.Add($"{Convert.ToHexString(lines[i])}: DCMTK {Hex(dcmtkLines[i])}, ours {Hex(ours)}");
        }
        Assert.True(differences.Count == 0, $"{term}: {differences.Count} differences\n" + string.Join("\n", differences.Take(40)));
    }

    private static string Hex(string s) => string.Join(" ", s.Select(c => $"U+{(int)c:X4}"));

    private static int MinimumCount(string term) => term switch
    {
        "\\ISO 2022 IR 149" => 8200,
        "\\ISO 2022 IR 58" => 7400,
        "GBK" => 21000,
        "GB18030" => 21000,
        _ => 80,
    };

    private static IEnumerable<byte[]> Candidates(string term, DicomCharacterSet charset)
    {
        switch (term)
        {
            case "\\ISO 2022 IR 149":
                return Pairs(0xA1, 0xFE, 0xA1, 0xFE).Select(p => (byte[])[0x1B, (byte)'$', (byte)')', (byte)'C', .. p]);
            case "\\ISO 2022 IR 58":
                return Pairs(0xA1, 0xFE, 0xA1, 0xFE).Select(p => (byte[])[0x1B, (byte)'$', (byte)')', (byte)'A', .. p]);
            case "GBK":
                return Pairs(0x81, 0xFE, 0x40, 0xFE).Where(p => p[1] != 0x7F);
            case "GB18030":
                // Plus 0x8135F437, the four-byte code GB18030-2005 gave to U+E7C7 when A8BC became U+1E3F. (The four-byte
                // codes that 2022 swapped the same way are rejected as unassigned by glibc 2.36, so they cannot be compared.)
                return Pairs(0x81, 0xFE, 0x40, 0xFE).Where(p => p[1] != 0x7F && !Gb18030GlibcOnlyMappings.Contains(Convert.ToHexString(p)))
                    .Concat(GbFourByteSample()).Append(charset.Encode("\uE7C7", DicomVR.UT));
            case "ISO_IR 166":
                // TIS-620 (iconv) lacks NO-BREAK SPACE and the C1 range that ISO 8859-11 has; we accept them on reading.
                return Enumerable.Range(0xA1, 0x5F).Select(b => new[] { (byte)b });
            default:
                return Enumerable.Range(0x80, 0x80).Select(b => new[] { (byte)b });
        }
    }

    private static IEnumerable<byte[]> Pairs(int firstFrom, int firstTo, int secondFrom, int secondTo)
    {
        for (int first = firstFrom; first <= firstTo; first++)
            for (int second = secondFrom; second <= secondTo; second++)
                yield return [(byte)first, (byte)second];
    }

    /// <summary>A spread of four-byte GB18030 sequences: the BMP part (0x81..0x84) and the supplementary planes (0x90..0xE3).</summary>
    private static IEnumerable<byte[]> GbFourByteSample()
    {
        for (int b1 = 0x81; b1 <= 0xE3; b1 += b1 < 0x84 ? 1 : b1 < 0x90 ? 0x90 - b1 : 13)
            for (int b2 = 0x30; b2 <= 0x39; b2 += 3)
                for (int b3 = 0x81; b3 <= 0xFE; b3 += 11)
                    for (int b4 = 0x30; b4 <= 0x39; b4 += 4)
                        yield return [(byte)b1, (byte)b2, (byte)b3, (byte)b4];
    }
}

/// <summary>
/// TEST-ONLY helper: writes the smallest Part 10 file DCMTK accepts (explicit VR little endian) holding (0008,0005) and one
/// UT value, as input for dcmconv.
/// </summary>
internal static class TestOnlyDicomWriter
{
    public const string TextTag = "(0040,A160)";

    public static void Write(string path, string specificCharacterSet, byte[] text)
    {
        var meta = new MemoryStream();
        Element(meta, 0x0002, 0x0001, "OB", [0x00, 0x01]);
        Element(meta, 0x0002, 0x0002, "UI", Uid("1.2.840.10008.5.1.4.1.1.7"));
        Element(meta, 0x0002, 0x0003, "UI", Uid("1.2.826.0.1.3680043.2.1125.1"));
        Element(meta, 0x0002, 0x0010, "UI", Uid("1.2.840.10008.1.2.1"));

        using var file = File.Create(path);
        file.Write(new byte[128]);
        file.Write("DICM"u8);
        Element(file, 0x0002, 0x0000, "UL", BitConverter.GetBytes((uint)meta.Length));
        meta.WriteTo(file);
        Element(file, 0x0008, 0x0005, "CS", Padded(Encoding.ASCII.GetBytes(specificCharacterSet), (byte)' '));
        Element(file, 0x0008, 0x0016, "UI", Uid("1.2.840.10008.5.1.4.1.1.7"));
        Element(file, 0x0008, 0x0018, "UI", Uid("1.2.826.0.1.3680043.2.1125.1"));
        Element(file, 0x0040, 0xA160, "UT", Padded(text, (byte)' '));
    }

    private static byte[] Uid(string uid) => Padded(Encoding.ASCII.GetBytes(uid), 0);

    private static byte[] Padded(byte[] value, byte padding) => value.Length % 2 == 0 ? value : [.. value, padding];

    private static void Element(Stream stream, ushort group, ushort element, string vr, byte[] value)
    {
        var writer = new BinaryWriter(stream, Encoding.ASCII, leaveOpen: true);
        writer.Write(group);
        writer.Write(element);
        writer.Write(Encoding.ASCII.GetBytes(vr));
        if (vr is "OB" or "UT")
        {
            writer.Write((ushort)0);
            writer.Write((uint)value.Length);
        }
        else
        {
            writer.Write((ushort)value.Length);
        }
        writer.Write(value);
    }
}
