using System.Buffers.Binary;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;

namespace Kaapana.Dicom;

/// <summary>Turns raw element bytes into typed values and back. Never throws on malformed values: callers get false and a reason.</summary>
internal static class DicomValueConversion
{
    private static readonly char[] Padding = [' ', '\0'];

    /// <summary>Decoded, split values with insignificant padding removed (PS3.5 6.2).</summary>
    public static string[] GetStrings(DicomValueElement e, DicomCharacterSet charset)
    {
        if (e.Length == 0) return [];
        var vr = e.VR == DicomVR.UN ? TextVRForUnknown(e.Tag) ?? DicomVR.UN : e.VR;
        if (!vr.IsString())
        {
            // Binary values as strings: render each value invariantly so callers can still read "any value as text".
            return GetBinaryValuesAsStrings(e);
        }
        var text = vr.UsesSpecificCharacterSet() ? charset.Decode(e.Span, vr) : Latin1(e.Span);
        if (vr.IsSingleValuedText()) return [vr == DicomVR.UR ? text.Trim(' ') : text.TrimEnd(Padding)];
        var parts = text.Split('\\');
        for (int i = 0; i < parts.Length; i++) parts[i] = Trim(parts[i], vr);
        return parts;
    }

    /// <summary>
    /// A public element that a converter left as UN (e.g. implicit VR input re-written as explicit) but whose only dictionary VR
    /// is text: its bytes are the text whatever the byte order, so it reads as that VR (a UID, not its hex dump).
    /// </summary>
    private static DicomVR? TextVRForUnknown(DicomTag tag) =>
        !tag.IsPrivate && DicomDictionary.Lookup(tag)?.VRs is [var known] && known.IsString() ? known : null;

    private static string Latin1(ReadOnlySpan<byte> bytes) => Encoding.Latin1.GetString(bytes);

    private static string Trim(string s, DicomVR vr) => vr switch
    {
        DicomVR.PN or DicomVR.UC or DicomVR.DA or DicomVR.TM or DicomVR.DT => s.TrimEnd(Padding),
        DicomVR.UI => s.TrimEnd(Padding).TrimStart(' '),
        _ => s.Trim(Padding),
    };

    private static string[] GetBinaryValuesAsStrings(DicomValueElement e)
    {
        var span = e.Span;
        var result = new List<string>();
        switch (e.VR)
        {
            case DicomVR.AT:
                for (int i = 0; i + 4 <= span.Length; i += 4)
                    result.Add(new DicomTag(BinaryPrimitives.ReadUInt16LittleEndian(span[i..]), BinaryPrimitives.ReadUInt16LittleEndian(span[(i + 2)..])).ToString());
                break;
            case DicomVR.US: foreach (var v in MemoryMarshal.Cast<byte, ushort>(span)) result.Add(v.ToString(CultureInfo.InvariantCulture)); break;
            case DicomVR.SS: foreach (var v in MemoryMarshal.Cast<byte, short>(span)) result.Add(v.ToString(CultureInfo.InvariantCulture)); break;
            case DicomVR.UL: foreach (var v in MemoryMarshal.Cast<byte, uint>(span)) result.Add(v.ToString(CultureInfo.InvariantCulture)); break;
            case DicomVR.SL: foreach (var v in MemoryMarshal.Cast<byte, int>(span)) result.Add(v.ToString(CultureInfo.InvariantCulture)); break;
            case DicomVR.UV: foreach (var v in MemoryMarshal.Cast<byte, ulong>(span)) result.Add(v.ToString(CultureInfo.InvariantCulture)); break;
            case DicomVR.SV: foreach (var v in MemoryMarshal.Cast<byte, long>(span)) result.Add(v.ToString(CultureInfo.InvariantCulture)); break;
            case DicomVR.FL: foreach (var v in MemoryMarshal.Cast<byte, float>(span)) result.Add(v.ToString("R", CultureInfo.InvariantCulture)); break;
            case DicomVR.FD: foreach (var v in MemoryMarshal.Cast<byte, double>(span)) result.Add(v.ToString("R", CultureInfo.InvariantCulture)); break;
            default: result.Add(Convert.ToHexString(span)); break;
        }
        return [.. result];
    }

    /// <summary>Number of values in a binary element, or -1 for string VRs (count those by splitting).</summary>
    public static int BinaryCount(DicomValueElement e) =>
        e.VR == DicomVR.AT ? (int)(e.Length / 4) : e.VR.ValueSize() is var s and > 0 ? (int)(e.Length / s) : -1;

    /// <summary>Reads value <paramref name="index"/> as a number of the element's native binary type.</summary>
    private static bool TryGetBinaryNumber(DicomValueElement e, int index, out double asDouble, out long asLong, out ulong asULong, out bool isFloat, out bool isUnsigned)
    {
        asDouble = 0; asLong = 0; asULong = 0; isFloat = false; isUnsigned = false;
        var size = e.VR.ValueSize();
        if (size == 0 || e.VR == DicomVR.AT || index < 0 || (long)(index + 1) * size > e.Length) return false;
        var s = e.Span.Slice(index * size, size);
        switch (e.VR)
        {
            case DicomVR.US: case DicomVR.OW: asULong = BinaryPrimitives.ReadUInt16LittleEndian(s); isUnsigned = true; break;
            case DicomVR.SS: asLong = BinaryPrimitives.ReadInt16LittleEndian(s); break;
            case DicomVR.UL: case DicomVR.OL: asULong = BinaryPrimitives.ReadUInt32LittleEndian(s); isUnsigned = true; break;
            case DicomVR.SL: asLong = BinaryPrimitives.ReadInt32LittleEndian(s); break;
            case DicomVR.UV: case DicomVR.OV: asULong = BinaryPrimitives.ReadUInt64LittleEndian(s); isUnsigned = true; break;
            case DicomVR.SV: asLong = BinaryPrimitives.ReadInt64LittleEndian(s); break;
            case DicomVR.FL: case DicomVR.OF: asDouble = BinaryPrimitives.ReadSingleLittleEndian(s); isFloat = true; break;
            case DicomVR.FD: case DicomVR.OD: asDouble = BinaryPrimitives.ReadDoubleLittleEndian(s); isFloat = true; break;
            default: return false;
        }
        if (!isFloat) asDouble = isUnsigned ? asULong : asLong;
        return true;
    }

    /// <param name="strings">The element's <see cref="GetStrings"/> when the caller already has them (converting all values one by one).</param>
    public static bool TryGet<T>(DicomElement element, DicomCharacterSet charset, int index, out T value, out string? error, string[]? strings = null)
    {
        value = default!;
        error = null;
        var t = typeof(T);
        if (element is not DicomValueElement e)
        {
            error = $"{element.VR} element has no scalar value";
            return false;
        }
        if (index < 0) { error = "negative index"; return false; }

        if (t == typeof(byte[]) || t == typeof(ReadOnlyMemory<byte>))
        {
            object raw = t == typeof(byte[]) ? e.Buffer.Memory.ToArray() : (object)e.Buffer.Memory;
            value = (T)raw;
            return true;
        }

        if (t == typeof(DicomTag))
        {
            if (e.VR != DicomVR.AT)
            {
                var strs = GetStrings(e, charset);
                if (index < strs.Length && DicomTag.TryParse(strs[index], out var parsed)) { value = (T)(object)parsed; return true; }
                error = "not an attribute tag";
                return false;
            }
            if ((long)(index + 1) * 4 > e.Length) { error = $"index {index} out of range"; return false; }
            var s = e.Span.Slice(index * 4, 4);
            value = (T)(object)new DicomTag(BinaryPrimitives.ReadUInt16LittleEndian(s), BinaryPrimitives.ReadUInt16LittleEndian(s[2..]));
            return true;
        }

        if (!e.VR.IsString() && e.VR != DicomVR.AT && IsNumeric(t))
        {
            if (!TryGetBinaryNumber(e, index, out var d, out var l, out var ul, out var isFloat, out var isUnsigned))
            {
                error = $"index {index} out of range for {e.VR}";
                return false;
            }
            return isFloat ? TryFromDouble(d, out value, out error)
                : isUnsigned ? TryFromULong(ul, out value, out error)
                : TryFromLong(l, out value, out error);
        }

        var values = strings ?? GetStrings(e, charset);
        if (t == typeof(string))
        {
            if (index >= values.Length) { error = $"index {index} out of range ({values.Length} values)"; return false; }
            value = (T)(object)values[index];
            return true;
        }
        if (index >= values.Length) { error = $"index {index} out of range ({values.Length} values)"; return false; }
        var str = values[index];
        object? result = null;
        if (t == typeof(DicomPersonName)) result = DicomPersonName.Parse(str);
        else if (t == typeof(DateOnly)) { if (DicomDateTimeParser.TryParseDate(str, out var d)) result = d; }
        else if (t == typeof(TimeOnly)) { if (DicomDateTimeParser.TryParseTime(str, out var tm)) result = tm; }
        else if (t == typeof(DateTimeOffset)) { if (DicomDateTimeParser.TryParseDateTime(str, out var dto, out _)) result = dto; }
        else if (t == typeof(DateTime))
        {
            if (e.VR == DicomVR.DA && DicomDateTimeParser.TryParseDate(str, out var da)) result = da.ToDateTime(TimeOnly.MinValue);
            else if (DicomDateTimeParser.TryParseDateTime(str, out var dto, out var hasOffset)) result = hasOffset ? dto.DateTime : dto.DateTime;
        }
        else if (IsNumeric(t))
        {
            if (long.TryParse(str, NumberStyles.Integer, CultureInfo.InvariantCulture, out var l)) return TryFromLong(l, out value, out error);
            if (double.TryParse(str, NumberStyles.Float, CultureInfo.InvariantCulture, out var d)) return TryFromDouble(d, out value, out error);
            if (t == typeof(decimal) && decimal.TryParse(str, NumberStyles.Float, CultureInfo.InvariantCulture, out var m)) { value = (T)(object)m; return true; }
        }
        else
        {
            error = $"type {t.Name} is not supported";
            return false;
        }
        if (result is null) { error = $"'{str}' is not a valid {t.Name}"; return false; }
        value = (T)result;
        return true;
    }

    private static bool IsNumeric(Type t) => t == typeof(int) || t == typeof(uint) || t == typeof(short) || t == typeof(ushort)
        || t == typeof(long) || t == typeof(ulong) || t == typeof(byte) || t == typeof(sbyte)
        || t == typeof(float) || t == typeof(double) || t == typeof(decimal);

    private static bool TryFromLong<T>(long v, out T value, out string? error)
    {
        value = default!; error = null;
        var t = typeof(T);
        object? r =
            t == typeof(long) ? v :
            t == typeof(int) ? (v is >= int.MinValue and <= int.MaxValue ? (int)v : null) :
            t == typeof(short) ? (v is >= short.MinValue and <= short.MaxValue ? (short)v : null) :
            t == typeof(sbyte) ? (v is >= sbyte.MinValue and <= sbyte.MaxValue ? (sbyte)v : null) :
            t == typeof(ulong) ? (v >= 0 ? (ulong)v : null) :
            t == typeof(uint) ? (v is >= 0 and <= uint.MaxValue ? (uint)v : null) :
            t == typeof(ushort) ? (v is >= 0 and <= ushort.MaxValue ? (ushort)v : null) :
            t == typeof(byte) ? (v is >= 0 and <= byte.MaxValue ? (byte)v : null) :
            t == typeof(double) ? (double)v :
            t == typeof(float) ? (float)v :
            t == typeof(decimal) ? (decimal)v : null;
        if (r is null) { error = $"{v} does not fit {t.Name}"; return false; }
        value = (T)r;
        return true;
    }

    private static bool TryFromULong<T>(ulong v, out T value, out string? error)
    {
        if (v <= long.MaxValue) return TryFromLong((long)v, out value, out error);
        value = default!; error = null;
        if (typeof(T) == typeof(ulong)) { value = (T)(object)v; return true; }
        if (typeof(T) == typeof(double)) { value = (T)(object)(double)v; return true; }
        if (typeof(T) == typeof(decimal)) { value = (T)(object)(decimal)v; return true; }
        error = $"{v} does not fit {typeof(T).Name}";
        return false;
    }

    private static bool TryFromDouble<T>(double d, out T value, out string? error)
    {
        value = default!; error = null;
        var t = typeof(T);
        if (t == typeof(double)) { value = (T)(object)d; return true; }
        if (t == typeof(float)) { value = (T)(object)(float)d; return true; }
        if (t == typeof(decimal))
        {
            if (double.IsFinite(d) && Math.Abs(d) < 7.9e28) { value = (T)(object)(decimal)d; return true; }
            error = $"{d} does not fit decimal";
            return false;
        }
        if (d != Math.Floor(d) || !double.IsFinite(d) || Math.Abs(d) > 9.2e18) { error = $"{d} is not an integer"; return false; }
        return TryFromLong((long)d, out value, out error);
    }

    // ---- encoding ----

    public static DicomBuffer EncodeStrings(DicomVR vr, IReadOnlyList<string> values, DicomCharacterSet charset)
    {
        var joined = string.Join('\\', values);
        var bytes = vr.UsesSpecificCharacterSet() ? charset.Encode(joined, vr) : Encoding.Latin1.GetBytes(joined);
        if ((bytes.Length & 1) == 1)
        {
            Array.Resize(ref bytes, bytes.Length + 1);
            bytes[^1] = vr.PaddingByte();
        }
        return DicomBuffer.From(bytes);
    }

    public static DicomBuffer EncodeValues<T>(DicomTag tag, DicomVR vr, IReadOnlyList<T> values, DicomCharacterSet charset)
    {
        if (vr.IsString())
        {
            var strings = new string[values.Count];
            for (int i = 0; i < values.Count; i++) strings[i] = FormatForString(tag, vr, values[i]);
            return EncodeStrings(vr, strings, charset);
        }
        if (vr == DicomVR.AT)
        {
            var buf = new byte[values.Count * 4];
            for (int i = 0; i < values.Count; i++)
            {
                if (values[i] is not DicomTag at) throw new DicomValueException(tag, $"AT needs DicomTag values, got {typeof(T).Name}");
                BinaryPrimitives.WriteUInt16LittleEndian(buf.AsSpan(i * 4), at.Group);
                BinaryPrimitives.WriteUInt16LittleEndian(buf.AsSpan(i * 4 + 2), at.Element);
            }
            return DicomBuffer.From(buf);
        }
        if (values is IReadOnlyList<byte> bytes && vr is DicomVR.OB or DicomVR.UN)
        {
            var b = bytes.ToArray();
            if ((b.Length & 1) == 1) Array.Resize(ref b, b.Length + 1);
            return DicomBuffer.From(b);
        }
        var size = vr.ValueSize();
        if (size == 0) throw new DicomValueException(tag, $"cannot encode {typeof(T).Name} as {vr}");
        var data = new byte[values.Count * size];
        for (int i = 0; i < values.Count; i++)
        {
            var s = data.AsSpan(i * size, size);
            var v = values[i];
            try
            {
                switch (vr)
                {
                    case DicomVR.US: case DicomVR.OW: BinaryPrimitives.WriteUInt16LittleEndian(s, Convert.ToUInt16(v, CultureInfo.InvariantCulture)); break;
                    case DicomVR.SS: BinaryPrimitives.WriteInt16LittleEndian(s, Convert.ToInt16(v, CultureInfo.InvariantCulture)); break;
                    case DicomVR.UL: case DicomVR.OL: BinaryPrimitives.WriteUInt32LittleEndian(s, Convert.ToUInt32(v, CultureInfo.InvariantCulture)); break;
                    case DicomVR.SL: BinaryPrimitives.WriteInt32LittleEndian(s, Convert.ToInt32(v, CultureInfo.InvariantCulture)); break;
                    case DicomVR.UV: case DicomVR.OV: BinaryPrimitives.WriteUInt64LittleEndian(s, Convert.ToUInt64(v, CultureInfo.InvariantCulture)); break;
                    case DicomVR.SV: BinaryPrimitives.WriteInt64LittleEndian(s, Convert.ToInt64(v, CultureInfo.InvariantCulture)); break;
                    case DicomVR.FL: case DicomVR.OF: BinaryPrimitives.WriteSingleLittleEndian(s, Convert.ToSingle(v, CultureInfo.InvariantCulture)); break;
                    case DicomVR.FD: case DicomVR.OD: BinaryPrimitives.WriteDoubleLittleEndian(s, Convert.ToDouble(v, CultureInfo.InvariantCulture)); break;
                }
            }
            catch (Exception ex) when (ex is OverflowException or InvalidCastException or FormatException)
            {
                throw new DicomValueException(tag, $"value '{v}' cannot be encoded as {vr}: {ex.Message}");
            }
        }
        return DicomBuffer.From(data);
    }

    private static string FormatForString<T>(DicomTag tag, DicomVR vr, T value) => value switch
    {
        null => "",
        string s => s,
        DateOnly d => DicomDateTimeParser.FormatDate(d),
        TimeOnly t => DicomDateTimeParser.FormatTime(t),
        DateTime dt => vr == DicomVR.DA ? DicomDateTimeParser.FormatDate(DateOnly.FromDateTime(dt))
            : vr == DicomVR.TM ? DicomDateTimeParser.FormatTime(TimeOnly.FromDateTime(dt))
            : DicomDateTimeParser.FormatDateTime(dt),
        DateTimeOffset dto => DicomDateTimeParser.FormatDateTime(dto),
        double d when vr == DicomVR.DS => FormatDecimalString(d),
        float f when vr == DicomVR.DS => FormatDecimalString(f),
        decimal m when vr == DicomVR.DS => FormatDecimalString((double)m),
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString() ?? throw new DicomValueException(tag, "null value"),
    };

    /// <summary>DS allows at most 16 characters: use the shortest round-trip form, else reduce precision.</summary>
    public static string FormatDecimalString(double d)
    {
        var s = d.ToString("R", CultureInfo.InvariantCulture);
        for (int p = 15; s.Length > 16 && p > 0; p--)
            s = d.ToString("G" + p, CultureInfo.InvariantCulture);
        return s;
    }
}
