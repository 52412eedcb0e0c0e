using System.Globalization;

namespace Kaapana.Dicom;

/// <summary>A data element tag (group, element). Ordered as the standard orders elements in a data set.</summary>
public readonly record struct DicomTag(ushort Group, ushort Element) : IComparable<DicomTag>
{
    public DicomTag(uint value) : this((ushort)(value >> 16), (ushort)value) { }

    public uint Value => ((uint)Group << 16) | Element;

    /// <summary>Odd groups (other than 0001, 0003, 0005, 0007, FFFF) hold private data elements.</summary>
    public bool IsPrivate => (Group & 1) == 1 && Group > 0x0007 && Group != 0xFFFF;

    /// <summary>(gggg,0010)-(gggg,00FF) in a private group reserve a block for a private creator.</summary>
    public bool IsPrivateCreator => IsPrivate && Element >= 0x0010 && Element <= 0x00FF;

    /// <summary>For a private data element (gggg,xxyy) with xx in 10..FF, the tag of its creator (gggg,00xx).</summary>
    public DicomTag? PrivateCreatorTag =>
        IsPrivate && Element >= 0x1000 ? new DicomTag(Group, (ushort)(Element >> 8)) : null;

    public bool IsGroupLength => Element == 0x0000;

    public int CompareTo(DicomTag other) => Value.CompareTo(other.Value);

    public static bool operator <(DicomTag a, DicomTag b) => a.Value < b.Value;
    public static bool operator >(DicomTag a, DicomTag b) => a.Value > b.Value;
    public static bool operator <=(DicomTag a, DicomTag b) => a.Value <= b.Value;
    public static bool operator >=(DicomTag a, DicomTag b) => a.Value >= b.Value;

    public override string ToString() => $"({Group:X4},{Element:X4})";

    /// <summary>Accepts <c>(0010,0010)</c>, <c>0010,0010</c>, <c>00100010</c> or a dictionary keyword such as <c>PatientName</c>.</summary>
    public static DicomTag Parse(string text) =>
        TryParse(text, out var tag) ? tag : throw new FormatException($"'{text}' is neither a DICOM tag nor a known keyword.");

    public static bool TryParse(string? text, out DicomTag tag)
    {
        tag = default;
        if (string.IsNullOrWhiteSpace(text)) return false;
        var s = text.Trim();
        if (s.StartsWith('(') && s.EndsWith(')')) s = s[1..^1];
        if (s.Length == 9 && s[4] == ',')
            s = string.Concat(s.AsSpan(0, 4), s.AsSpan(5, 4));
        if (s.Length == 8 && uint.TryParse(s, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var v))
        {
            tag = new DicomTag(v);
            return true;
        }
        return DicomDictionary.TryGetTag(s, out tag);
    }

    // Structural tags of the encoding itself (PS3.5 7.5).
    public static readonly DicomTag Item = new(0xFFFE, 0xE000);
    public static readonly DicomTag ItemDelimitationItem = new(0xFFFE, 0xE00D);
    public static readonly DicomTag SequenceDelimitationItem = new(0xFFFE, 0xE0DD);
}
