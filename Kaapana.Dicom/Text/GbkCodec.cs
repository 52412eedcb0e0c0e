using System.Text;

namespace Kaapana.Dicom;

/// <summary>
/// GBK (code page 936) for the whole value. Decoding walks the lead/trail structure itself because .NET's 936 decoder
/// swallows the byte after an invalid lead byte (which may be a space); only well-formed pairs are looked up in the code page.
/// The user-defined areas, which 936 maps into the Private Use Area, are not characters anyone else agrees on (iconv, and so
/// DCMTK, rejects them): they decode to U+FFFD and PUA characters are written as '?'.
/// </summary>
internal sealed class GbkCodec : ITextCodec
{
    public const int CodePage = 936;

    private static readonly Lazy<char[]> Pairs = new(BuildPairs, LazyThreadSafetyMode.PublicationOnly);
    private static readonly Encoding? Gbk = CodePageSource.TryGet(CodePage);

    public string Decode(ReadOnlySpan<byte> bytes, DicomVR vr)
    {
        if (bytes.IsEmpty) return "";
        if (bytes.IndexOfAnyInRange((byte)0x80, (byte)0xFF) < 0) return Encoding.ASCII.GetString(bytes);
        var pairs = Pairs.Value;
        var sb = new StringBuilder(bytes.Length);
        for (int i = 0; i < bytes.Length; i++)
        {
            byte b = bytes[i];
            if (b < 0x80) sb.Append((char)b);
            else if (b == 0x80) sb.Append('\u20AC'); // code page 936's single-byte euro sign
            else if (b != 0xFF && i + 1 < bytes.Length && TrailIndex(bytes[i + 1]) is var t and >= 0)
            {
                sb.Append(pairs[(b - 0x81) * 190 + t]);
                i++;
            }
            else sb.Append('\uFFFD');
        }
        return sb.ToString();
    }

    public byte[] Encode(string value, DicomVR vr)
    {
        if (Gbk is null) return Encoding.ASCII.GetBytes(value);
        // One '?' per unrepresentable character: the DBCS encoder would write one per UTF-16 code unit of a surrogate pair.
        // The euro sign is read from 936's single byte 0x80 but not written: that byte is not GBK proper.
        var sb = new StringBuilder(value.Length);
        foreach (var rune in value.EnumerateRunes())
            sb.Append(rune.IsBmp && !CodePageSource.IsPrivateUse((char)rune.Value) && rune.Value != 0x20AC ? (char)rune.Value : '?');
        return Gbk.GetBytes(sb.ToString());
    }

    /// <summary>GBK trail bytes are 0x40..0x7E and 0x80..0xFE (190 values); -1 otherwise.</summary>
    private static int TrailIndex(byte b) => b switch
    {
        >= 0x40 and <= 0x7E => b - 0x40,
        >= 0x80 and <= 0xFE => b - 0x41,
        _ => -1,
    };

    private static char[] BuildPairs()
    {
        var table = new char[126 * 190];
        Array.Fill(table, '\uFFFD');
        if (Gbk is null) return table;
        for (int lead = 0x81; lead <= 0xFE; lead++)
        {
            for (int trail = 0x40; trail <= 0xFE; trail++)
            {
                if (trail == 0x7F) continue;
                var s = Gbk.GetString([(byte)lead, (byte)trail]);
                if (s.Length == 1 && !CodePageSource.IsPrivateUse(s[0])) table[(lead - 0x81) * 190 + TrailIndex((byte)trail)] = s[0];
            }
        }
        return table;
    }
}
