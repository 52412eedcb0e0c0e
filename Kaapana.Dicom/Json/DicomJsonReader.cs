using System.Buffers.Binary;
using System.Globalization;
using System.Runtime.ExceptionServices;
using System.Text;
using System.Text.Json;

namespace Kaapana.Dicom.Json;

/// <summary>
/// Parses the DICOM JSON Model (PS3.18 Annex F) with a streaming <see cref="Utf8JsonReader"/>. Every malformed input raises
/// <see cref="DicomJsonException"/> naming the path (and attribute) where it went wrong; nothing else escapes except
/// exceptions thrown by a <see cref="DicomJsonReadOptions.BulkDataResolver"/>.
/// <para>What is accepted:</para>
/// <list type="bullet">
/// <item>Member names: 8 hex digits (either case); keywords only with <see cref="DicomJsonReadOptions.AcceptKeywords"/>.
/// Each attribute needs <c>"vr"</c> (anywhere in the object) and at most one of <c>"Value"</c>, <c>"InlineBinary"</c>,
/// <c>"BulkDataURI"</c>; other members and duplicate attributes are errors.</item>
/// <item>IS/DS: JSON numbers (their text is kept as written; DS longer than 16 characters is reformatted, an IS written as
/// e.g. <c>5.0</c> becomes <c>5</c>) or strings (kept verbatim, so non-conformant values survive). SV/UV and all binary
/// numbers: numbers or numeric strings; FL/FD also <c>"NaN"</c>, <c>"Infinity"</c>, <c>"-Infinity"</c>.</item>
/// <item>Text: strings, <c>null</c> for an empty value. PN: objects with Alphabetic/Ideographic/Phonetic (or a plain
/// string in the encoded <c>A=I=P</c> form). AT: 8 hex digit strings.</item>
/// <item><c>null</c> inside the Value array of a binary VR (US, SS, UL, SL, FL, FD, SV, UV, AT), which some writers emit
/// (pydicom's test1.json has <c>[128, 0, 0, 32, null]</c> for a US), cannot be stored as an empty value in binary data and
/// is stored as 0.</item>
/// <item><c>"InlineBinary"</c> for any VR but SQ: the value's raw little-endian bytes. For Pixel Data, an encapsulated
/// Value Field (items ending in a sequence delimiter) becomes a <see cref="DicomFragmentSequence"/>.</item>
/// </list>
/// <para>
/// Character sets: JSON text is Unicode, the data set stores encoded bytes. Values of the VRs that use Specific Character
/// Set (SH, LO, UC, ST, LT, UT, PN) are encoded with the character set the parsed data declares for them if that set
/// represents every such value exactly; otherwise (non-ASCII text the declared set cannot hold, or no declaration) the
/// root's Specific Character Set becomes <c>ISO_IR 192</c>, every item that declares its own set is relabelled the same,
/// and all values are stored as UTF-8. Pure ASCII data is stored as given and nothing is added.
/// Other string VRs (which the standard restricts to ASCII) are stored as Latin-1.
/// </para>
/// </summary>
public static class DicomJsonReader
{
    public static DicomDataset Parse(string json, DicomJsonReadOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(json);
        return Parse(Encoding.UTF8.GetBytes(json), options);
    }

    public static DicomDataset Parse(ReadOnlySpan<byte> utf8, DicomJsonReadOptions? options = null) =>
        new Parser(options ?? DicomJsonReadOptions.Default).Run(utf8, array: false)[0];

    /// <summary>Reads a whole stream (e.g. a STOW-RS JSON part) and parses one data set.</summary>
    public static DicomDataset Parse(Stream utf8Json, DicomJsonReadOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(utf8Json);
        using var ms = new MemoryStream();
        utf8Json.CopyTo(ms);
        return Parse(ms.GetBuffer().AsSpan(0, (int)ms.Length), options);
    }

    /// <summary>Parses a JSON array of data sets (QIDO-RS, WADO-RS metadata, STOW-RS JSON).</summary>
    public static IReadOnlyList<DicomDataset> ParseArray(ReadOnlySpan<byte> utf8, DicomJsonReadOptions? options = null) =>
        new Parser(options ?? DicomJsonReadOptions.Default).Run(utf8, array: true);

    public static IReadOnlyList<DicomDataset> ParseArray(string json, DicomJsonReadOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(json);
        return ParseArray(Encoding.UTF8.GetBytes(json), options);
    }

    /// <summary>Marks exceptions thrown by the user's resolver so they propagate unchanged.</summary>
    private sealed class ResolverFailure(Exception inner) : Exception("bulk data resolver failed", inner);

    private sealed record PendingText(DicomDataset Owner, DicomTag Tag, DicomVR VR, string[] Values);

    private sealed class Parser(DicomJsonReadOptions options)
    {
        private readonly List<string> _path = [];
        private readonly List<DicomTag> _tags = [];
        private readonly List<PendingText> _pending = [];
        private int _depth;

        private string CurrentPath => _path.Count == 0 ? "" : "/" + string.Join('/', _path);
        private DicomTag? CurrentTag => _tags.Count == 0 ? null : _tags[^1];

        private DicomJsonException Fail(string message) => new(message, CurrentPath, CurrentTag);

        public List<DicomDataset> Run(ReadOnlySpan<byte> utf8, bool array)
        {
            if (utf8.StartsWith("\uFEFF"u8)) utf8 = utf8[3..];
            var r = new Utf8JsonReader(utf8, new JsonReaderOptions
            {
                // Each sequence level costs four JSON levels: attribute object, Value array, item object, next attribute object.
                MaxDepth = Math.Max(8, 4 * options.MaxDepth + 8),
                CommentHandling = JsonCommentHandling.Disallow,
            });
            var result = new List<DicomDataset>();
            try
            {
                Next(ref r);
                if (array)
                {
                    if (r.TokenType != JsonTokenType.StartArray) throw Fail($"Expected a JSON array of data sets, found {Describe(r.TokenType)}");
                    for (int i = 0; ; i++)
                    {
                        Next(ref r);
                        if (r.TokenType == JsonTokenType.EndArray) break;
                        _path.Add(i.ToString(CultureInfo.InvariantCulture));
                        result.Add(ReadTopLevel(ref r));
                        _path.RemoveAt(_path.Count - 1);
                    }
                }
                else
                {
                    result.Add(ReadTopLevel(ref r));
                }
                if (r.Read()) throw Fail($"Unexpected {Describe(r.TokenType)} after the end of the data");
                return result;
            }
            catch (ResolverFailure f)
            {
                ExceptionDispatchInfo.Capture(f.InnerException!).Throw();
                throw; // unreachable
            }
            catch (DicomJsonException)
            {
                throw;
            }
            catch (JsonException ex)
            {
                throw new DicomJsonException($"Invalid JSON: {ex.Message}", CurrentPath, CurrentTag, ex);
            }
            catch (Exception ex) when (ex is not OutOfMemoryException and not InsufficientExecutionStackException)
            {
                throw new DicomJsonException(ex.Message, CurrentPath, CurrentTag, ex);
            }
        }

        private DicomDataset ReadTopLevel(ref Utf8JsonReader r)
        {
            if (r.TokenType != JsonTokenType.StartObject) throw Fail($"Expected a JSON object (a data set), found {Describe(r.TokenType)}");
            _pending.Clear();
            var ds = ReadDataset(ref r);
            ResolvePendingText(ds);
            return ds;
        }

        private static void Next(ref Utf8JsonReader r)
        {
            if (!r.Read()) throw new JsonException("Unexpected end of data.");
        }

        private static string Describe(JsonTokenType t) => t switch
        {
            JsonTokenType.StartObject => "an object",
            JsonTokenType.StartArray => "an array",
            JsonTokenType.String => "a string",
            JsonTokenType.Number => "a number",
            JsonTokenType.True or JsonTokenType.False => "a boolean",
            JsonTokenType.Null => "null",
            _ => t.ToString(),
        };

        // ---- data sets ----

        private DicomDataset ReadDataset(ref Utf8JsonReader r)
        {
            if (++_depth > options.MaxDepth) throw Fail($"Sequences are nested deeper than {options.MaxDepth} levels");
            var ds = new DicomDataset();
            var seen = new HashSet<uint>();
            while (true)
            {
                Next(ref r);
                if (r.TokenType == JsonTokenType.EndObject) break;
                var name = r.GetString()!;
                _path.Add(name);
                var tag = ParseKey(name);
                _tags.Add(tag);
                if (!seen.Add(tag.Value)) throw Fail("Duplicate attribute");
                Next(ref r);
                if (r.TokenType != JsonTokenType.StartObject) throw Fail($"An attribute must be a JSON object, found {Describe(r.TokenType)}");
                var e = ReadAttribute(ref r, tag, ds);
                if (e != null) ds.Set(e);
                _tags.RemoveAt(_tags.Count - 1);
                _path.RemoveAt(_path.Count - 1);
            }
            _depth--;
            return ds;
        }

        private DicomTag ParseKey(string name)
        {
            if (name.Length == 8 && uint.TryParse(name, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var v))
            {
                var tag = new DicomTag(v);
                if (tag.Group == 0xFFFE) throw Fail($"'{name}' is an item or delimitation tag, not an attribute");
                return tag;
            }
            if (options.AcceptKeywords && DicomDictionary.TryGetTag(name, out var t)) return t;
            throw Fail($"'{name}' is not an attribute tag (8 hexadecimal digits)");
        }

        /// <summary>Finds "vr" in the attribute object starting at <paramref name="r"/> (a copy: the caller's position is kept).</summary>
        private DicomVR FindVR(Utf8JsonReader r)
        {
            while (true)
            {
                Next(ref r);
                if (r.TokenType == JsonTokenType.EndObject) throw Fail("Attribute has no \"vr\"");
                if (r.ValueTextEquals("vr"u8))
                {
                    Next(ref r);
                    _path.Add("vr");
                    if (r.TokenType != JsonTokenType.String) throw Fail($"\"vr\" must be a string, found {Describe(r.TokenType)}");
                    var text = r.GetString()!;
                    if (!DicomVRInfo.TryParse(text, out var vr)) throw Fail($"Unknown VR '{text}'");
                    _path.RemoveAt(_path.Count - 1);
                    return vr;
                }
                Next(ref r);
                r.Skip();
            }
        }

        private DicomElement? ReadAttribute(ref Utf8JsonReader r, DicomTag tag, DicomDataset owner)
        {
            var vr = FindVR(r);
            DicomElement? element = null;
            string? valueKind = null;
            bool sawVR = false, pending = false;
            while (true)
            {
                Next(ref r);
                if (r.TokenType == JsonTokenType.EndObject) break;
                var name = r.GetString()!;
                _path.Add(name);
                Next(ref r);
                switch (name)
                {
                    case "vr":
                        if (sawVR) throw Fail("Duplicate \"vr\"");
                        sawVR = true;
                        break;
                    case "Value":
                    case "InlineBinary":
                    case "BulkDataURI":
                        if (valueKind != null) throw Fail($"\"{name}\" together with \"{valueKind}\": an attribute has at most one of Value, InlineBinary, BulkDataURI");
                        valueKind = name;
                        element = name switch
                        {
                            "Value" => ReadValue(ref r, tag, vr, owner, out pending),
                            "InlineBinary" => ReadInlineBinary(ref r, tag, vr),
                            _ => ReadBulkDataUri(ref r, tag, vr),
                        };
                        break;
                    default:
                        throw Fail($"Unexpected member \"{name}\" (expected vr, Value, InlineBinary or BulkDataURI)");
                }
                _path.RemoveAt(_path.Count - 1);
            }
            if (pending) return null;
            return element ?? (vr == DicomVR.SQ ? new DicomSequence(tag) : new DicomValueElement(tag, vr, DicomBuffer.Empty));
        }

        // ---- Value ----

        private DicomElement? ReadValue(ref Utf8JsonReader r, DicomTag tag, DicomVR vr, DicomDataset owner, out bool pending)
        {
            pending = false;
            if (r.TokenType != JsonTokenType.StartArray) throw Fail($"\"Value\" must be an array, found {Describe(r.TokenType)}");
            if (vr == DicomVR.SQ) return ReadSequence(ref r, tag);
            if (vr.IsBulk()) throw Fail($"\"Value\" is not allowed for VR {vr}; use InlineBinary or BulkDataURI");

            if (vr.IsString())
            {
                var values = new List<string>();
                for (int i = 0; ; i++)
                {
                    Next(ref r);
                    if (r.TokenType == JsonTokenType.EndArray) break;
                    _path.Add(i.ToString(CultureInfo.InvariantCulture));
                    values.Add(ReadStringValue(ref r, vr));
                    _path.RemoveAt(_path.Count - 1);
                }
                if (vr.UsesSpecificCharacterSet())
                {
                    // Encoded once the whole data set is known: (0008,0005) may come later, or be wrong for the text.
                    _pending.Add(new PendingText(owner, tag, vr, [.. values]));
                    pending = true;
                    return null;
                }
                return new DicomValueElement(tag, vr, DicomValueConversion.EncodeStrings(vr, values, DicomCharacterSet.Default));
            }

            int size = vr == DicomVR.AT ? 4 : vr.ValueSize();
            if (size == 0) throw Fail($"\"Value\" is not supported for VR {vr}");
            var bytes = new List<byte>();
            Span<byte> one = stackalloc byte[8];
            for (int i = 0; ; i++)
            {
                Next(ref r);
                if (r.TokenType == JsonTokenType.EndArray) break;
                _path.Add(i.ToString(CultureInfo.InvariantCulture));
                ReadBinaryValue(ref r, vr, one[..size]);
                foreach (var b in one[..size]) bytes.Add(b);
                _path.RemoveAt(_path.Count - 1);
            }
            return new DicomValueElement(tag, vr, DicomBuffer.From(bytes.ToArray()));
        }

        private DicomSequence ReadSequence(ref Utf8JsonReader r, DicomTag tag)
        {
            var items = new List<DicomDataset>();
            for (int i = 0; ; i++)
            {
                Next(ref r);
                if (r.TokenType == JsonTokenType.EndArray) break;
                _path.Add(i.ToString(CultureInfo.InvariantCulture));
                if (r.TokenType != JsonTokenType.StartObject) throw Fail($"A sequence item must be a JSON object, found {Describe(r.TokenType)}");
                items.Add(ReadDataset(ref r));
                _path.RemoveAt(_path.Count - 1);
            }
            return new DicomSequence(tag, items);
        }

        private string ReadStringValue(ref Utf8JsonReader r, DicomVR vr)
        {
            switch (r.TokenType)
            {
                case JsonTokenType.Null:
                    return "";
                case JsonTokenType.String:
                    return r.GetString()!;
                case JsonTokenType.Number when vr is DicomVR.IS or DicomVR.DS:
                    return NumberText(ref r, vr);
                case JsonTokenType.StartObject when vr == DicomVR.PN:
                    return ReadPersonName(ref r);
                default:
                    throw Fail(vr == DicomVR.PN
                        ? $"A PN value must be an object or null, found {Describe(r.TokenType)}"
                        : $"A {vr} value must be a {(vr is DicomVR.IS or DicomVR.DS ? "number, string" : "string")} or null, found {Describe(r.TokenType)}");
            }
        }

        private string NumberText(ref Utf8JsonReader r, DicomVR vr)
        {
            var raw = Encoding.ASCII.GetString(r.ValueSpan);
            if (vr == DicomVR.DS)
            {
                if (raw.Length <= 16) return raw;
                if (!double.TryParse(raw, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) || !double.IsFinite(d))
                    throw Fail($"DS value {raw} is out of range");
                return DicomValueConversion.FormatDecimalString(d);
            }
            if (long.TryParse(raw, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out _)) return raw;
            if (decimal.TryParse(raw, NumberStyles.Float, CultureInfo.InvariantCulture, out var m) && m == decimal.Truncate(m))
                return decimal.Truncate(m).ToString(CultureInfo.InvariantCulture);
            throw Fail($"IS value {raw} is not an integer");
        }

        private string ReadPersonName(ref Utf8JsonReader r)
        {
            string[] groups = ["", "", ""];
            bool[] seen = new bool[3];
            while (true)
            {
                Next(ref r);
                if (r.TokenType == JsonTokenType.EndObject) break;
                var name = r.GetString()!;
                _path.Add(name);
                int g = name switch { "Alphabetic" => 0, "Ideographic" => 1, "Phonetic" => 2, _ => -1 };
                if (g < 0) throw Fail($"Unexpected person name component group \"{name}\" (expected Alphabetic, Ideographic or Phonetic)");
                if (seen[g]) throw Fail($"Duplicate \"{name}\"");
                seen[g] = true;
                Next(ref r);
                if (r.TokenType == JsonTokenType.String) groups[g] = r.GetString()!;
                else if (r.TokenType != JsonTokenType.Null) throw Fail($"A person name component group must be a string, found {Describe(r.TokenType)}");
                if (groups[g].Contains('=')) throw Fail("A person name component group cannot contain '='");
                _path.RemoveAt(_path.Count - 1);
            }
            int n = 3;
            while (n > 0 && groups[n - 1].Length == 0) n--;
            return string.Join('=', groups, 0, n);
        }

        private void ReadBinaryValue(ref Utf8JsonReader r, DicomVR vr, scoped Span<byte> dest)
        {
            if (r.TokenType == JsonTokenType.Null)
            {
                // An empty value inside a multi-valued binary element has no encoding; store zero (see class remarks).
                dest.Clear();
                return;
            }
            string text;
            bool isNumber = r.TokenType == JsonTokenType.Number;
            if (isNumber) text = Encoding.ASCII.GetString(r.ValueSpan);
            else if (r.TokenType == JsonTokenType.String) text = r.GetString()!.Trim();
            else throw Fail($"A {vr} value must be a {(vr == DicomVR.AT ? "string" : "number")}, found {Describe(r.TokenType)}");

            if (vr == DicomVR.AT)
            {
                if (isNumber || text.Length != 8 || !uint.TryParse(text, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var t))
                    throw Fail($"An AT value must be a string of 8 hexadecimal digits, found '{text}'");
                BinaryPrimitives.WriteUInt16LittleEndian(dest, (ushort)(t >> 16));
                BinaryPrimitives.WriteUInt16LittleEndian(dest[2..], (ushort)t);
                return;
            }
            if (vr is DicomVR.FL or DicomVR.FD)
            {
                if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var d)
                    || (isNumber && !double.IsFinite(d)))
                    throw Fail($"'{text}' is not a {vr} number");
                if (vr == DicomVR.FD)
                {
                    BinaryPrimitives.WriteDoubleLittleEndian(dest, d);
                    return;
                }
                // Parsed directly as float: rounding the decimal text once, not via double.
                var f = float.Parse(text, NumberStyles.Float, CultureInfo.InvariantCulture);
                if (isNumber && !float.IsFinite(f)) throw Fail($"{text} is out of range for FL");
                BinaryPrimitives.WriteSingleLittleEndian(dest, f);
                return;
            }

            Int128 v;
            if (Int128.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var i128)) v = i128;
            else if (decimal.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var m) && m == decimal.Truncate(m)) v = (Int128)m;
            else throw Fail($"'{text}' is not an integer for {vr}");
            (Int128 min, Int128 max) = vr switch
            {
                DicomVR.US => ((Int128)ushort.MinValue, (Int128)ushort.MaxValue),
                DicomVR.SS => (short.MinValue, short.MaxValue),
                DicomVR.UL => (uint.MinValue, uint.MaxValue),
                DicomVR.SL => (int.MinValue, int.MaxValue),
                DicomVR.UV => (ulong.MinValue, ulong.MaxValue),
                _ => (long.MinValue, long.MaxValue), // SV
            };
            if (v < min || v > max) throw Fail($"{text} is out of range for {vr}");
            switch (vr)
            {
                case DicomVR.US: BinaryPrimitives.WriteUInt16LittleEndian(dest, (ushort)v); break;
                case DicomVR.SS: BinaryPrimitives.WriteInt16LittleEndian(dest, (short)v); break;
                case DicomVR.UL: BinaryPrimitives.WriteUInt32LittleEndian(dest, (uint)v); break;
                case DicomVR.SL: BinaryPrimitives.WriteInt32LittleEndian(dest, (int)v); break;
                case DicomVR.UV: BinaryPrimitives.WriteUInt64LittleEndian(dest, (ulong)v); break;
                default: BinaryPrimitives.WriteInt64LittleEndian(dest, (long)v); break;
            }
        }

        // ---- InlineBinary / BulkDataURI ----

        private DicomElement ReadInlineBinary(ref Utf8JsonReader r, DicomTag tag, DicomVR vr)
        {
            if (vr == DicomVR.SQ) throw Fail("\"InlineBinary\" is not allowed for a sequence");
            if (r.TokenType != JsonTokenType.String) throw Fail($"\"InlineBinary\" must be a base64 string, found {Describe(r.TokenType)}");
            if (!r.TryGetBytesFromBase64(out var bytes)) throw Fail("\"InlineBinary\" is not valid base64");
            if (tag == DicomTags.PixelData && vr is DicomVR.OB or DicomVR.OW && TryParseEncapsulated(bytes, vr) is { } f) return f;
            return new DicomValueElement(tag, vr, DicomBuffer.From(bytes));
        }

        private static DicomFragmentSequence? TryParseEncapsulated(byte[] data, DicomVR vr)
        {
            // Basic offset table item, fragment items, then exactly a sequence delimiter with length 0 at the very end.
            var buffers = new List<DicomBuffer>();
            int pos = 0;
            while (pos + 8 <= data.Length)
            {
                var group = BinaryPrimitives.ReadUInt16LittleEndian(data.AsSpan(pos));
                var element = BinaryPrimitives.ReadUInt16LittleEndian(data.AsSpan(pos + 2));
                var length = BinaryPrimitives.ReadUInt32LittleEndian(data.AsSpan(pos + 4));
                pos += 8;
                if (group != 0xFFFE) return null;
                if (element == 0xE0DD)
                    return length == 0 && pos == data.Length && buffers.Count > 0
                        ? new DicomFragmentSequence(DicomTags.PixelData, vr, buffers[0], buffers.Skip(1))
                        : null;
                if (element != 0xE000 || length > data.Length - pos) return null;
                buffers.Add(DicomBuffer.From(data.AsMemory(pos, (int)length)));
                pos += (int)length;
            }
            return null;
        }

        private DicomElement ReadBulkDataUri(ref Utf8JsonReader r, DicomTag tag, DicomVR vr)
        {
            if (vr == DicomVR.SQ) throw Fail("\"BulkDataURI\" is not allowed for a sequence");
            if (r.TokenType != JsonTokenType.String) throw Fail($"\"BulkDataURI\" must be a string, found {Describe(r.TokenType)}");
            var uri = r.GetString()!;
            DicomBuffer? buffer = null;
            if (options.BulkDataResolver is { } resolve)
            {
                try { buffer = resolve(uri); }
                catch (Exception ex) { throw new ResolverFailure(ex); }
            }
            return new DicomValueElement(tag, vr, buffer ?? new BulkDataUriBuffer(uri));
        }

        // ---- character sets ----

        private void ResolvePendingText(DicomDataset root)
        {
            if (_pending.Count == 0) return;
            bool utf8 = false;
            foreach (var p in _pending)
            {
                var joined = string.Join('\\', p.Values);
                if (Ascii.IsValid(joined)) continue;
                if (!Represents(CharacterSetOf(p.Owner), joined, p.VR))
                {
                    utf8 = true;
                    break;
                }
            }
            if (utf8) RelabelUtf8(root, isRoot: true);
            foreach (var p in _pending)
            {
                var charset = CharacterSetOf(p.Owner) ?? DicomCharacterSet.Default;
                p.Owner.Set(new DicomValueElement(p.Tag, p.VR, DicomValueConversion.EncodeStrings(p.VR, p.Values, charset)));
            }
        }

        /// <summary>The character set that applies to <paramref name="ds"/>, or null when its declaration is unusable.</summary>
        private static DicomCharacterSet? CharacterSetOf(DicomDataset ds)
        {
            try { return ds.CharacterSet; }
            catch (Exception ex) when (ex is DicomException or ArgumentException) { return null; }
        }

        private static bool Represents(DicomCharacterSet? charset, string text, DicomVR vr)
        {
            if (charset == null) return false;
            try { return charset.Decode(charset.Encode(text, vr), vr) == text; }
            catch (Exception ex) when (ex is DicomException or ArgumentException) { return false; }
        }

        private static void RelabelUtf8(DicomDataset ds, bool isRoot)
        {
            if (isRoot || ds.Contains(DicomTags.SpecificCharacterSet))
                ds.Set(DicomTags.SpecificCharacterSet, DicomVR.CS, "ISO_IR 192");
            foreach (var e in ds)
                if (e is DicomSequence sq)
                    foreach (var item in sq.Items) RelabelUtf8(item, isRoot: false);
        }
    }
}
