namespace Kaapana.Dicom;

/// <summary>Value representations of PS3.5 6.2 (current standard). <see cref="None"/> marks "unknown / not in dictionary".</summary>
public enum DicomVR : byte
{
    None = 0,
    AE, AS, AT, CS, DA, DS, DT, FD, FL, IS, LO, LT, OB, OD, OF, OL, OV, OW, PN, SH, SL, SQ, SS, ST, SV, TM, UC, UI, UL, UN, UR, US, UT, UV,
}

/// <summary>Encoding properties of each VR (PS3.5 6.2, 7.1.2).</summary>
public static class DicomVRInfo
{
    /// <summary>Explicit VR encodings use a 2-byte reserved field and 4-byte length for these VRs.</summary>
    public static bool HasLongLength(this DicomVR vr) => vr is DicomVR.OB or DicomVR.OD or DicomVR.OF or DicomVR.OL
        or DicomVR.OV or DicomVR.OW or DicomVR.SQ or DicomVR.SV or DicomVR.UC or DicomVR.UN or DicomVR.UR
        or DicomVR.UT or DicomVR.UV;

    /// <summary>Character-string VRs (values are text, padded with space or NUL).</summary>
    public static bool IsString(this DicomVR vr) => vr is DicomVR.AE or DicomVR.AS or DicomVR.CS or DicomVR.DA
        or DicomVR.DS or DicomVR.DT or DicomVR.IS or DicomVR.LO or DicomVR.LT or DicomVR.PN or DicomVR.SH
        or DicomVR.ST or DicomVR.TM or DicomVR.UC or DicomVR.UI or DicomVR.UR or DicomVR.UT;

    /// <summary>String VRs whose bytes are interpreted through Specific Character Set (0008,0005).</summary>
    public static bool UsesSpecificCharacterSet(this DicomVR vr) => vr is DicomVR.SH or DicomVR.LO or DicomVR.UC
        or DicomVR.ST or DicomVR.LT or DicomVR.UT or DicomVR.PN;

    /// <summary>Text VRs that hold one value only: backslash is an ordinary character there.</summary>
    public static bool IsSingleValuedText(this DicomVR vr) => vr is DicomVR.LT or DicomVR.ST or DicomVR.UT or DicomVR.UR;

    /// <summary>Byte size of one value for fixed-size binary VRs; 0 for strings, SQ, UN, OB.</summary>
    public static int ValueSize(this DicomVR vr) => vr switch
    {
        DicomVR.SS or DicomVR.US or DicomVR.OW => 2,
        DicomVR.SL or DicomVR.UL or DicomVR.FL or DicomVR.OL or DicomVR.OF => 4,
        DicomVR.AT => 2, // swapped as two 16-bit halves
        DicomVR.FD or DicomVR.OD or DicomVR.SV or DicomVR.UV or DicomVR.OV => 8,
        _ => 0,
    };

    /// <summary>Padding byte used to make a value even-length.</summary>
    public static byte PaddingByte(this DicomVR vr) => vr == DicomVR.UI || !vr.IsString() ? (byte)0 : (byte)' ';

    /// <summary>Bulk binary VRs: not listed as text values; candidates for lazy loading and BulkDataURI.</summary>
    public static bool IsBulk(this DicomVR vr) => vr is DicomVR.OB or DicomVR.OD or DicomVR.OF or DicomVR.OL
        or DicomVR.OV or DicomVR.OW or DicomVR.UN;

    // Indexed by the two letters: the reader parses a VR per element, and Enum.TryParse was its top hotspot.
    private static readonly DicomVR[] ByLetters = BuildLetterTable();

    private static DicomVR[] BuildLetterTable()
    {
        var table = new DicomVR[26 * 26];
        foreach (var v in Enum.GetValues<DicomVR>())
        {
            if (v == DicomVR.None) continue;
            var n = v.ToString();
            table[(n[0] - 'A') * 26 + (n[1] - 'A')] = v;
        }
        return table;
    }

    public static bool TryParse(ReadOnlySpan<byte> twoChars, out DicomVR vr)
    {
        vr = DicomVR.None;
        if (twoChars.Length < 2) return false;
        uint a = (uint)(twoChars[0] - 'A'), b = (uint)(twoChars[1] - 'A');
        if (a >= 26 || b >= 26) return false;
        vr = ByLetters[a * 26 + b];
        return vr != DicomVR.None;
    }

    public static bool TryParse(string text, out DicomVR vr)
    {
        vr = DicomVR.None;
        return text.Length == 2 && char.IsAsciiLetterUpper(text[0]) && char.IsAsciiLetterUpper(text[1])
            && Enum.TryParse(text, ignoreCase: false, out vr) && vr != DicomVR.None;
    }
}
