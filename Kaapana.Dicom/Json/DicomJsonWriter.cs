using System.Buffers;
using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace Kaapana.Dicom.Json;

/// <summary>
/// Writes data sets in the DICOM JSON Model (PS3.18 Annex F) with a streaming <see cref="Utf8JsonWriter"/>.
/// <list type="bullet">
/// <item>Members are the tags as 8 uppercase hex digits in ascending order, each an object with <c>"vr"</c> and, unless the
/// value is empty, one of <c>"Value"</c>, <c>"InlineBinary"</c> or <c>"BulkDataURI"</c>. Group lengths are left out.</item>
/// <item>Text is decoded with the character set that applies to the data set or item (see
/// <see cref="DicomJsonWriteOptions.RelabelCharacterSetAsUtf8"/>). Padding is removed; an empty value inside a multi-valued
/// element is <c>null</c>.</item>
/// <item>PN values are objects with <c>"Alphabetic"</c>, <c>"Ideographic"</c>, <c>"Phonetic"</c> (empty groups left out).</item>
/// <item>IS and DS: see <see cref="DicomJsonNumberStrings"/>. FL, FD, SL, SS, UL, US: JSON numbers (shortest round-trip
/// form); NaN and ±infinity, which JSON numbers cannot express, are the strings <c>"NaN"</c>, <c>"Infinity"</c>,
/// <c>"-Infinity"</c> (non-standard; <see cref="DicomJsonReader"/> accepts them). SV, UV: numbers, or strings beyond ±2^53
/// (<see cref="DicomJsonWriteOptions.LargeIntegersAsStrings"/>).</item>
/// <item>AT: strings of 8 uppercase hex digits. SQ: an array of item objects.</item>
/// <item>OB, OD, OF, OL, OV, OW, UN: <c>"InlineBinary"</c> base64 of the little-endian bytes, streamed in segments, or
/// <c>"BulkDataURI"</c>. Encapsulated pixel data is inlined as its encoded Value Field (items and sequence delimiter),
/// which <see cref="DicomJsonReader"/> turns back into fragments.</item>
/// <item>A binary-numeric value whose length is not a multiple of its value size (malformed) is written as
/// <c>"InlineBinary"</c> rather than losing bytes.</item>
/// </list>
/// </summary>
public static class DicomJsonWriter
{
    private const int Base64Chunk = 3 * 16 * 1024;
    private const long MaxSafeInteger = 9007199254740992; // 2^53

    /// <summary>Writer options used by the convenience methods: UTF-8 text unescaped where JSON allows it.</summary>
    public static JsonWriterOptions CreateWriterOptions(bool indented = false) => new()
    {
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        Indented = indented,
    };

    /// <summary>Writes one data set as a JSON object.</summary>
    public static void Write(Utf8JsonWriter writer, DicomDataset dataset, DicomJsonWriteOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentNullException.ThrowIfNull(dataset);
        WriteDataset(writer, dataset, options ?? DicomJsonWriteOptions.Default);
    }

    /// <summary>Writes data sets as a JSON array of objects (the form of QIDO-RS and WADO-RS metadata responses).</summary>
    public static void WriteArray(Utf8JsonWriter writer, IEnumerable<DicomDataset> datasets, DicomJsonWriteOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentNullException.ThrowIfNull(datasets);
        var o = options ?? DicomJsonWriteOptions.Default;
        writer.WriteStartArray();
        foreach (var ds in datasets) WriteDataset(writer, ds, o);
        writer.WriteEndArray();
    }

    /// <summary>Writes one data set to a stream as UTF-8 JSON.</summary>
    public static void Write(Stream stream, DicomDataset dataset, DicomJsonWriteOptions? options = null, bool indented = false)
    {
        using var w = new Utf8JsonWriter(stream, CreateWriterOptions(indented));
        Write(w, dataset, options);
    }

    public static string Serialize(DicomDataset dataset, DicomJsonWriteOptions? options = null, bool indented = false) =>
        Encoding.UTF8.GetString(SerializeToUtf8Bytes(dataset, options, indented));

    public static byte[] SerializeToUtf8Bytes(DicomDataset dataset, DicomJsonWriteOptions? options = null, bool indented = false)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var w = new Utf8JsonWriter(buffer, CreateWriterOptions(indented))) Write(w, dataset, options);
        return buffer.WrittenSpan.ToArray();
    }

    public static string SerializeArray(IEnumerable<DicomDataset> datasets, DicomJsonWriteOptions? options = null, bool indented = false)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var w = new Utf8JsonWriter(buffer, CreateWriterOptions(indented))) WriteArray(w, datasets, options);
        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    // ---- data sets and elements ----

    private static void WriteDataset(Utf8JsonWriter w, DicomDataset ds, DicomJsonWriteOptions o)
    {
        w.WriteStartObject();
        DicomCharacterSet? charset = null; // resolved on first use: most data sets never need it
        foreach (var e in ds)
        {
            if (e.Tag.IsGroupLength && !o.IncludeGroupLength) continue;
            WriteElement(w, e, ds, ref charset, o);
        }
        w.WriteEndObject();
    }

    private static void WriteKey(Utf8JsonWriter w, DicomTag tag, DicomJsonWriteOptions o)
    {
        if (o.WriteKeywords && !tag.IsPrivate && DicomDictionary.Lookup(tag) is { IsRepeater: false, Keyword.Length: > 0 } entry)
        {
            w.WritePropertyName(entry.Keyword);
            return;
        }
        Span<byte> key = stackalloc byte[8];
        FormatTag(tag, key);
        w.WritePropertyName(key);
    }

    private static void FormatTag(DicomTag tag, Span<byte> dest)
    {
        const string hex = "0123456789ABCDEF";
        uint v = tag.Value;
        for (int i = 7; i >= 0; i--, v >>= 4) dest[i] = (byte)hex[(int)(v & 0xF)];
    }

    private static void WriteVR(Utf8JsonWriter w, DicomVR vr)
    {
        var name = vr == DicomVR.None ? "UN" : vr.ToString();
        w.WriteString("vr"u8, name);
    }

    private static void WriteElement(Utf8JsonWriter w, DicomElement e, DicomDataset owner, ref DicomCharacterSet? charset, DicomJsonWriteOptions o)
    {
        // Bulk data by reference first: the provider may want any element, and unresolved references keep their URI.
        if (e is not DicomSequence)
        {
            var uri = o.BulkDataUriProvider?.Invoke(e);
            if (uri == null && e is DicomValueElement { Buffer: BulkDataUriBuffer b }) uri = b.Uri;
            if (uri != null)
            {
                WriteKey(w, e.Tag, o);
                w.WriteStartObject();
                WriteVR(w, e.VR);
                w.WriteString("BulkDataURI"u8, uri);
                w.WriteEndObject();
                return;
            }
        }

        switch (e)
        {
            case DicomSequence sq:
                WriteKey(w, e.Tag, o);
                w.WriteStartObject();
                WriteVR(w, DicomVR.SQ);
                if (sq.Items.Count > 0)
                {
                    w.WritePropertyName("Value"u8);
                    w.WriteStartArray();
                    foreach (var item in sq.Items) WriteDataset(w, item, o);
                    w.WriteEndArray();
                }
                w.WriteEndObject();
                return;

            case DicomFragmentSequence f:
                if (EncapsulatedLength(f) > o.InlineBinaryThreshold) return;
                WriteKey(w, e.Tag, o);
                w.WriteStartObject();
                WriteVR(w, e.VR);
                w.WritePropertyName("InlineBinary"u8);
                WriteEncapsulated(w, f);
                w.WriteEndObject();
                return;

            case DicomValueElement v:
                if (v.VR.IsBulk() || v.VR == DicomVR.None)
                {
                    if (v.Length > o.InlineBinaryThreshold) return;
                    WriteBinaryElement(w, v, o);
                    return;
                }
                if (v.VR.IsString())
                {
                    charset ??= owner.CharacterSet;
                    WriteStringElement(w, v, charset, o);
                    return;
                }
                WriteBinaryValueElement(w, v, o);
                return;
        }
    }

    private static void WriteBinaryElement(Utf8JsonWriter w, DicomValueElement v, DicomJsonWriteOptions o)
    {
        WriteKey(w, v.Tag, o);
        w.WriteStartObject();
        WriteVR(w, v.VR);
        if (v.Length > 0)
        {
            w.WritePropertyName("InlineBinary"u8);
            WriteBase64(w, v.Buffer);
        }
        w.WriteEndObject();
    }

    // ---- strings ----

    private static void WriteStringElement(Utf8JsonWriter w, DicomValueElement v, DicomCharacterSet charset, DicomJsonWriteOptions o)
    {
        var values = v.Length == 0 ? [] : DicomValueConversion.GetStrings(v, charset);
        if (values.Length == 1 && values[0].Length == 0) values = [];
        if (v.Tag == DicomTags.SpecificCharacterSet && o.RelabelCharacterSetAsUtf8 && values.Length > 0) values = ["ISO_IR 192"];

        WriteKey(w, v.Tag, o);
        w.WriteStartObject();
        WriteVR(w, v.VR);
        if (values.Length > 0)
        {
            w.WritePropertyName("Value"u8);
            w.WriteStartArray();
            foreach (var s in values)
            {
                if (s.Length == 0) w.WriteNullValue();
                else if (v.VR == DicomVR.PN) WritePersonName(w, s);
                else if (v.VR is DicomVR.IS or DicomVR.DS && o.NumberStrings == DicomJsonNumberStrings.Number && IsJsonNumber(s))
                    w.WriteRawValue(s, skipInputValidation: true);
                else w.WriteStringValue(s);
            }
            w.WriteEndArray();
        }
        w.WriteEndObject();
    }

    private static void WritePersonName(Utf8JsonWriter w, string value)
    {
        var groups = value.Split('=', 3);
        bool any = false;
        foreach (var g in groups) any |= g.Length > 0;
        if (!any)
        {
            w.WriteNullValue();
            return;
        }
        w.WriteStartObject();
        if (groups[0].Length > 0) w.WriteString("Alphabetic"u8, groups[0]);
        if (groups.Length > 1 && groups[1].Length > 0) w.WriteString("Ideographic"u8, groups[1]);
        if (groups.Length > 2 && groups[2].Length > 0) w.WriteString("Phonetic"u8, groups[2]);
        w.WriteEndObject();
    }

    /// <summary>True for text that is a JSON number (RFC 8259 grammar) of finite double magnitude.</summary>
    internal static bool IsJsonNumber(ReadOnlySpan<char> s)
    {
        int i = 0, n = s.Length;
        if (i < n && s[i] == '-') i++;
        if (i >= n) return false;
        if (s[i] == '0') i++;
        else if (s[i] is >= '1' and <= '9') while (i < n && char.IsAsciiDigit(s[i])) i++;
        else return false;
        if (i < n && s[i] == '.')
        {
            i++;
            int start = i;
            while (i < n && char.IsAsciiDigit(s[i])) i++;
            if (i == start) return false;
        }
        if (i < n && s[i] is 'e' or 'E')
        {
            i++;
            if (i < n && s[i] is '+' or '-') i++;
            int start = i;
            while (i < n && char.IsAsciiDigit(s[i])) i++;
            if (i == start) return false;
        }
        return i == n && double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) && double.IsFinite(d);
    }

    // ---- binary numbers and AT ----

    private static void WriteBinaryValueElement(Utf8JsonWriter w, DicomValueElement v, DicomJsonWriteOptions o)
    {
        var vr = v.VR;
        int size = vr == DicomVR.AT ? 4 : vr.ValueSize();
        if (size == 0 || v.Length % size != 0)
        {
            // Unknown shape or malformed length: keep every byte rather than drop a partial value.
            WriteBinaryElement(w, v, o);
            return;
        }
        WriteKey(w, v.Tag, o);
        w.WriteStartObject();
        WriteVR(w, vr);
        if (v.Length > 0)
        {
            var span = v.Span;
            Span<byte> hex = stackalloc byte[8];
            w.WritePropertyName("Value"u8);
            w.WriteStartArray();
            for (int i = 0; i < span.Length; i += size)
            {
                var s = span.Slice(i, size);
                switch (vr)
                {
                    case DicomVR.AT:
                        FormatTag(new DicomTag(BinaryPrimitives.ReadUInt16LittleEndian(s), BinaryPrimitives.ReadUInt16LittleEndian(s[2..])), hex);
                        w.WriteStringValue(hex);
                        break;
                    case DicomVR.US: w.WriteNumberValue((uint)BinaryPrimitives.ReadUInt16LittleEndian(s)); break;
                    case DicomVR.SS: w.WriteNumberValue((int)BinaryPrimitives.ReadInt16LittleEndian(s)); break;
                    case DicomVR.UL: w.WriteNumberValue(BinaryPrimitives.ReadUInt32LittleEndian(s)); break;
                    case DicomVR.SL: w.WriteNumberValue(BinaryPrimitives.ReadInt32LittleEndian(s)); break;
                    case DicomVR.FL: WriteFloat(w, BinaryPrimitives.ReadSingleLittleEndian(s)); break;
                    case DicomVR.FD: WriteDouble(w, BinaryPrimitives.ReadDoubleLittleEndian(s)); break;
                    case DicomVR.SV:
                        var sv = BinaryPrimitives.ReadInt64LittleEndian(s);
                        if (o.LargeIntegersAsStrings && (sv > MaxSafeInteger || sv < -MaxSafeInteger))
                            w.WriteStringValue(sv.ToString(CultureInfo.InvariantCulture));
                        else w.WriteNumberValue(sv);
                        break;
                    case DicomVR.UV:
                        var uv = BinaryPrimitives.ReadUInt64LittleEndian(s);
                        if (o.LargeIntegersAsStrings && uv > MaxSafeInteger) w.WriteStringValue(uv.ToString(CultureInfo.InvariantCulture));
                        else w.WriteNumberValue(uv);
                        break;
                }
            }
            w.WriteEndArray();
        }
        w.WriteEndObject();
    }

    private static void WriteFloat(Utf8JsonWriter w, float f)
    {
        if (float.IsFinite(f)) w.WriteNumberValue(f);
        else w.WriteStringValue(float.IsNaN(f) ? "NaN" : f > 0 ? "Infinity" : "-Infinity");
    }

    private static void WriteDouble(Utf8JsonWriter w, double d)
    {
        if (double.IsFinite(d)) w.WriteNumberValue(d);
        else w.WriteStringValue(double.IsNaN(d) ? "NaN" : d > 0 ? "Infinity" : "-Infinity");
    }

    // ---- base64 ----

    private static void WriteBase64(Utf8JsonWriter w, DicomBuffer buffer)
    {
        if (buffer.IsInMemory && buffer.Length <= Base64Chunk)
        {
            w.WriteBase64StringValue(buffer.Memory.Span);
            return;
        }
        var sink = new Base64Sink(w);
        if (buffer.IsInMemory) sink.Write(buffer.Memory.Span);
        else sink.Write(buffer);
        sink.Finish();
    }

    /// <summary>Total size of the encapsulated Value Field: offset table item, fragment items, sequence delimiter.</summary>
    private static long EncapsulatedLength(DicomFragmentSequence f)
    {
        long n = 8 + f.OffsetTable.Length + 8;
        foreach (var frag in f.Fragments) n += 8 + frag.Length;
        return n;
    }

    private static void WriteEncapsulated(Utf8JsonWriter w, DicomFragmentSequence f)
    {
        var sink = new Base64Sink(w);
        var header = new byte[8];
        void Item(DicomBuffer b, ushort element)
        {
            BinaryPrimitives.WriteUInt16LittleEndian(header, 0xFFFE);
            BinaryPrimitives.WriteUInt16LittleEndian(header.AsSpan(2), element);
            BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan(4), (uint)b.Length);
            sink.Write(header);
            if (b.Length == 0) return;
            if (b.IsInMemory) sink.Write(b.Memory.Span);
            else sink.Write(b);
        }
        Item(f.OffsetTable, 0xE000);
        foreach (var frag in f.Fragments) Item(frag, 0xE000);
        Item(DicomBuffer.Empty, 0xE0DD);
        sink.Finish();
    }

    /// <summary>Streams bytes into one base64 JSON string in bounded segments, flushing the writer as it goes.</summary>
    private sealed class Base64Sink(Utf8JsonWriter w)
    {
        public void Write(ReadOnlySpan<byte> data)
        {
            while (data.Length > 0)
            {
                var n = Math.Min(data.Length, Base64Chunk);
                w.WriteBase64StringSegment(data[..n], isFinalSegment: false);
                data = data[n..];
                if (w.BytesPending > 1 << 20) w.Flush();
            }
        }

        public void Write(DicomBuffer buffer)
        {
            var chunk = ArrayPool<byte>.Shared.Rent(Base64Chunk);
            try
            {
                using var s = buffer.OpenRead();
                int n;
                while ((n = s.Read(chunk, 0, Base64Chunk)) > 0) Write(chunk.AsSpan(0, n));
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(chunk);
            }
        }

        public void Finish() => w.WriteBase64StringSegment([], isFinalSegment: true);
    }
}
