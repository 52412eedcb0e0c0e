namespace Kaapana.Dicom;

/// <summary>
/// One PS3.6 data dictionary entry. For a repeating-group entry (e.g. Overlay Data (60xx,3000)) <see cref="Tag"/>
/// holds the pattern with the free nibbles zero and <see cref="Mask"/> says which bits of a tag must equal it.
/// </summary>
/// <param name="Tag">The tag, or for repeaters the pattern with free nibbles set to zero.</param>
/// <param name="Mask">Bits that must match: 0xFFFFFFFF for exact entries, e.g. 0xFF00FFFF for (60xx,3000).</param>
/// <param name="VRs">Allowed VRs in PS3.6 order (e.g. OB, OW); empty for the item delimitation tags. Shared: do not modify.</param>
/// <param name="VM">Value multiplicity as written in PS3.6, e.g. "1", "1-n", "2-2n".</param>
public sealed record DicomDictionaryEntry(
    DicomTag Tag, uint Mask, DicomVR[] VRs, string VM, string Name, string Keyword, bool IsRetired)
{
    public const uint ExactMask = 0xFFFFFFFF;

    /// <summary>The VR to use when the encoding does not say (implicit VR); UN when PS3.6 gives none.</summary>
    public DicomVR DefaultVR => VRs.Length > 0 ? VRs[0] : DicomVR.UN;

    /// <summary>PS3.6 allows several VRs (e.g. "US or SS"); the actual one depends on other attributes.</summary>
    public bool IsAmbiguousVR => VRs.Length > 1;

    /// <summary>True for repeating-group entries such as (60xx,3000) or (1010,xxxx).</summary>
    public bool IsRepeater => Mask != ExactMask;

    public bool Matches(DicomTag tag) => (tag.Value & Mask) == Tag.Value;

    public override string ToString() => $"{FormatTag()} {string.Join(" or ", VRs)} {VM} {Keyword}{(IsRetired ? " (retired)" : "")}";

    /// <summary>The tag as PS3.6 writes it, with 'x' for free nibbles, e.g. (60xx,3000).</summary>
    public string FormatTag()
    {
        Span<char> s = stackalloc char[11];
        s[0] = '(';
        s[5] = ',';
        s[10] = ')';
        for (int i = 0; i < 8; i++)
        {
            int shift = 28 - 4 * i;
            char c = ((Mask >> shift) & 0xF) == 0 ? 'x' : "0123456789ABCDEF"[(int)((Tag.Value >> shift) & 0xF)];
            s[i < 4 ? 1 + i : 2 + i] = c;
        }
        return new string(s);
    }
}
