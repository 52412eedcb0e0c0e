using System.Buffers.Binary;

namespace Kaapana.Dicom;

/// <summary>
/// Parses Part 10 files and bare data sets (PS3.5 7, PS3.10 7). Malformed input raises <see cref="DicomFormatException"/> only.
/// </summary>
public sealed class DicomReader
{
    private readonly DicomInput _in;
    private readonly DicomReadOptions _options;
    private readonly string? _path;
    private bool _bigEndian;
    private bool _explicit;
    private int _depth;
    private bool _stopped;
    private readonly List<string> _warnings = [];

    private DicomReader(Stream stream, DicomReadOptions? options, string? path)
    {
        _in = new DicomInput(stream);
        _options = options ?? DicomReadOptions.Default;
        _path = path;
    }

    public static DicomFile ReadFile(Stream stream, DicomReadOptions? options = null, string? path = null)
    {
        var r = new DicomReader(stream, options, path);
        try
        {
            return r.ReadFile();
        }
        catch (Exception ex) when (ex is not DicomFormatException and not OperationCanceledException and not OutOfMemoryException)
        {
            // IO errors of a damaged deflate stream and similar must surface as the one format error type.
            throw new DicomFormatException($"Malformed data: {ex.Message}", r._in.Position, null, ex);
        }
        finally
        {
            r._in.Release();
        }
    }

    /// <summary>Reads a data set without preamble or meta information, encoded in <paramref name="syntax"/> (e.g. a DIMSE data set).</summary>
    public static DicomDataset ReadDataset(Stream stream, DicomTransferSyntax syntax, DicomReadOptions? options = null)
    {
        var r = new DicomReader(stream, options, null);
        try
        {
            if (syntax.IsDeflated) r._in.SwitchToDeflate();
            r._bigEndian = syntax.IsBigEndian;
            r._explicit = syntax.IsExplicitVR;
            var ds = new DicomDataset();
            r.ReadElements(ds, long.MaxValue, topLevel: true, undefinedItem: false);
            return ds;
        }
        catch (Exception ex) when (ex is not DicomFormatException and not OperationCanceledException and not OutOfMemoryException)
        {
            throw new DicomFormatException($"Malformed data: {ex.Message}", r._in.Position, null, ex);
        }
        finally
        {
            r._in.Release();
        }
    }

    private DicomFile ReadFile()
    {
        byte[]? preamble = null;
        var head = _in.Peek(132);
        if (head.Length >= 132 && head[128] == 'D' && head[129] == 'I' && head[130] == 'C' && head[131] == 'M')
        {
            preamble = head[..128].ToArray();
            _in.Skip(132, null);
        }
        else if (head.Length >= 4 && head[0] == 'D' && head[1] == 'I' && head[2] == 'C' && head[3] == 'M')
        {
            _in.Skip(4, null); // magic without preamble: seen in the wild
        }

        var meta = new DicomDataset();
        bool hasMeta = ReadMeta(meta);
        if (!hasMeta && preamble != null && _in.AtEnd)
            throw new DicomFormatException("File has a DICM preamble but no data", _in.Position);

        DicomTransferSyntax syntax;
        var tsUid = meta.GetString(DicomTags.TransferSyntaxUID);
        if (tsUid.Length > 0)
        {
            syntax = DicomTransferSyntax.Lookup(tsUid);
        }
        else
        {
            syntax = GuessSyntax();
        }

        if (syntax.IsDeflated) _in.SwitchToDeflate();
        _bigEndian = syntax.IsBigEndian;
        _explicit = syntax.IsExplicitVR;
        if (!syntax.IsDeflated) CorrectVRMode();

        var ds = new DicomDataset();
        if (_in.AtEnd && !hasMeta) throw new DicomFormatException("No DICOM data found", _in.Position);
        ReadElements(ds, long.MaxValue, topLevel: true, undefinedItem: false);
        if (!hasMeta && ds.Count == 0) throw new DicomFormatException("No DICOM data found", _in.Position);
        return new DicomFile(meta, ds, syntax, preamble, _stopped) { Warnings = _warnings };
    }

    /// <summary>File meta group 0002 is always explicit VR little endian (PS3.10 7.1); a few writers got that wrong, so check.</summary>
    private bool ReadMeta(DicomDataset meta)
    {
        var p = _in.Peek(6);
        if (p.Length < 6 || p[0] != 0x02 || p[1] != 0x00) return false;
        _bigEndian = false;
        _explicit = DicomVRInfo.TryParse(p[4..6], out _);
        while (true)
        {
            var t = _in.Peek(2);
            if (t.Length < 2 || t[0] != 0x02 || t[1] != 0x00) break;
            var e = ReadElement(meta, topLevel: false);
            if (e is null) break;
            meta.Set(e);
        }
        return meta.Count > 0;
    }

    /// <summary>No meta information: decide by looking at the first element (group order and whether a VR follows the tag).</summary>
    private DicomTransferSyntax GuessSyntax()
    {
        var p = _in.Peek(8);
        if (p.Length < 8) return DicomTransferSyntax.ImplicitVRLittleEndian;
        bool explicitVr = DicomVRInfo.TryParse(p[4..6], out _);
        ushort groupLE = (ushort)(p[0] | (p[1] << 8));
        ushort groupBE = (ushort)((p[0] << 8) | p[1]);
        bool bigEndian = groupBE < groupLE && groupBE <= 0x0008 && groupLE > 0x00FF;
        if (bigEndian) return DicomTransferSyntax.ExplicitVRBigEndian;
        return explicitVr ? DicomTransferSyntax.ExplicitVRLittleEndian : DicomTransferSyntax.ImplicitVRLittleEndian;
    }

    /// <summary>
    /// Some files declare one VR mode and use the other; the first element tells which (as DCMTK and pydicom also check).
    /// Two capital letters after an implicit VR tag can also be the low bytes of a 32-bit length, so implicit data is only
    /// taken for explicit when the implicit length cannot fit the input, or when the explicit reading of the first element is
    /// followed by another explicit VR header (or the end of the data).
    /// </summary>
    private void CorrectVRMode()
    {
        var p = _in.Peek(12);
        if (p.Length < 8) return;
        bool looksExplicit = DicomVRInfo.TryParse(p[4..6], out var vr);
        if (_explicit && !looksExplicit)
        {
            _explicit = false;
            Warn("The data set is encoded in implicit VR although the transfer syntax says explicit VR", _in.Position);
        }
        else if (!_explicit && looksExplicit && LooksExplicit(p, vr))
        {
            _explicit = true;
            Warn("The data set is encoded in explicit VR although the transfer syntax says implicit VR", _in.Position);
        }
    }

    private bool LooksExplicit(ReadOnlySpan<byte> head, DicomVR vr)
    {
        uint implicitLength = BinaryPrimitives.ReadUInt32LittleEndian(head[4..8]);
        if (implicitLength != 0xFFFFFFFF && implicitLength > _in.Remaining - 8) return true;
        long headerLength = vr.HasLongLength() ? 12 : 8;
        if (head.Length < headerLength) return false;
        long explicitLength = vr.HasLongLength() ? BinaryPrimitives.ReadUInt32LittleEndian(head[8..12]) : BinaryPrimitives.ReadUInt16LittleEndian(head[6..8]);
        long next = headerLength + explicitLength;
        if (explicitLength == 0xFFFFFFFF || next + 6 > 1 << 16) return false; // too far to look ahead: trust the transfer syntax
        var ahead = _in.Peek((int)next + 6);
        return ahead.Length == next || ahead.Length >= next + 6 && DicomVRInfo.TryParse(ahead[(int)(next + 4)..], out _);
    }

    private bool ShouldStop(DicomTag tag, bool topLevel)
    {
        if (!topLevel) return false;
        // Float (7FE0,0008) and Double Float (7FE0,0009) Pixel Data are pixel data too; everything after them is trailing padding or pixel data.
        if (_options.StopBeforePixelData && tag >= DicomTags.FloatPixelData) return true;
        return _options.StopWhen?.Invoke(tag) == true;
    }

    /// <summary>Reads elements into <paramref name="ds"/> until <paramref name="end"/>, an item delimiter (undefined-length item) or the end of input.</summary>
    private void ReadElements(DicomDataset ds, long end, bool topLevel, bool undefinedItem)
    {
        while (true)
        {
            if (_in.Position == end) return;
            if (_in.Position > end) throw new DicomFormatException($"Element runs {_in.Position - end} bytes past the end of its item", _in.Position);
            if (_in.AtEnd)
            {
                if (undefinedItem) throw new DicomFormatException("Data ended inside an item of undefined length", _in.Position);
                // A defined-length item cut short between two elements: see ReadSequence.
                if (end != long.MaxValue) Warn($"Input ended {end - _in.Position} bytes before the declared end of an item", _in.Position);
                return;
            }
            var e = ReadElement(ds, topLevel, undefinedItem);
            if (e is null) return; // delimiter or stop
            ds.Set(e);
        }
    }

    private void Warn(string message, long offset) => _warnings.Add($"{message} (offset {offset})");

    /// <summary>One element; null at the item delimiter of an undefined-length item or when a stop condition is met.</summary>
    private DicomElement? ReadElement(DicomDataset owner, bool topLevel, bool undefinedItem = false)
    {
        long start = _in.Position;
        var tag = _in.ReadTag(_bigEndian);
        var group = tag.Group;

        if (tag == DicomTag.ItemDelimitationItem)
        {
            // Elsewhere it would silently end the data set and drop whatever follows.
            if (!undefinedItem) throw new DicomFormatException("Item delimiter outside an item of undefined length", start, tag);
            _in.ReadUInt32(_bigEndian);
            return null;
        }
        if (tag == DicomTag.SequenceDelimitationItem || tag == DicomTag.Item)
            throw new DicomFormatException("Unexpected item or sequence delimiter outside a sequence", start, tag);

        if (ShouldStop(tag, topLevel))
        {
            _in.Rewind(4);
            _stopped = true;
            return null;
        }

        DicomVR vr;
        long length;
        bool isExplicitHere = _explicit || group == 0x0002 && !_bigEndian && DicomVRInfo.TryParse(_in.Peek(2), out _);
        if (isExplicitHere)
        {
            var vrBytes = _in.Peek(2);
            if (vrBytes.Length < 2) throw new DicomFormatException("Unexpected end of data reading a VR", _in.Position, tag);
            if (DicomVRInfo.TryParse(vrBytes, out vr))
            {
                _in.Skip(2, tag);
            }
            else if (vrBytes[0] is >= (byte)'A' and <= (byte)'Z' && vrBytes[1] is >= (byte)'A' and <= (byte)'Z')
            {
                // A VR from a later edition of the standard: PS3.5 7.1.2 says such VRs use the long form.
                _in.Skip(2, tag);
                vr = DicomVR.UN;
                _in.Skip(2, tag);
                return ReadValue(owner, tag, vr, _in.ReadUInt32(_bigEndian), start, unknownLongForm: true);
            }
            else
            {
                throw new DicomFormatException($"Invalid VR bytes 0x{vrBytes[0]:X2}{vrBytes[1]:X2}", _in.Position, tag);
            }
            if (vr.HasLongLength())
            {
                _in.Skip(2, tag);
                length = _in.ReadUInt32(_bigEndian);
            }
            else
            {
                length = _in.ReadUInt16(_bigEndian);
            }
        }
        else
        {
            vr = ImplicitVR(owner, tag);
            length = _in.ReadUInt32(_bigEndian);
        }
        return ReadValue(owner, tag, vr, length, start, unknownLongForm: false);
    }

    private DicomVR ImplicitVR(DicomDataset owner, DicomTag tag)
    {
        if (tag.IsPrivateCreator) return DicomVR.LO;
        if (tag.IsGroupLength) return DicomVR.UL;
        if (tag.IsPrivate) return DicomVR.UN;
        var entry = DicomDictionary.Lookup(tag);
        if (entry is null || entry.VRs.Length == 0) return DicomVR.UN;
        if (entry.VRs.Length == 1) return entry.VRs[0];
        var vrs = entry.VRs;
        // PS3.5 A.1: "US or SS" elements follow the Pixel Representation of the image they describe (found in this item or
        // an enclosing one); "OB or OW" (pixel data, overlays) and "US or OW" (LUT Data) are OW in implicit VR.
        if (vrs.Contains(DicomVR.SS) && vrs.Contains(DicomVR.US))
            return FindPixelRepresentation(owner) == 1 ? DicomVR.SS : DicomVR.US;
        if (vrs.Contains(DicomVR.OW)) return DicomVR.OW;
        return vrs[0];
    }

    private static int FindPixelRepresentation(DicomDataset ds)
    {
        for (DicomDataset? d = ds; d != null; d = d.Parent?.Owner)
            if (d.TryGet<int>(DicomTags.PixelRepresentation, out var pr)) return pr;
        return 0;
    }

    private DicomElement ReadValue(DicomDataset owner, DicomTag tag, DicomVR vr, long length, long start, bool unknownLongForm)
    {
        if (length == 0xFFFFFFFF)
        {
            // Encapsulated pixel data is OB whatever the header says (PS3.5 A.4); some writers put OW, and DCMTK also reports OB.
            if (tag == DicomTags.PixelData || (vr is DicomVR.OB or DicomVR.OW && tag.Group == 0x7FE0))
                return ReadFragments(tag, DicomVR.OB);
            if (vr is DicomVR.SQ or DicomVR.UN || !_explicit || unknownLongForm)
            {
                // Undefined-length UN is a sequence encoded in implicit VR little endian (PS3.5 6.2.2 note).
                bool saveExplicit = _explicit, saveBE = _bigEndian;
                if (vr != DicomVR.SQ) { _explicit = false; _bigEndian = false; }
                try { return ReadSequence(owner, tag, long.MaxValue, undefined: true); }
                finally { _explicit = saveExplicit; _bigEndian = saveBE; }
            }
            throw new DicomFormatException($"Undefined length is not allowed for VR {vr}", start, tag);
        }

        // A sequence allocates nothing for its length, and one that runs past the input is tolerated (see ReadSequence).
        if (vr == DicomVR.SQ)
            return ReadSequence(owner, tag, _in.Position + length, undefined: false);

        if (length > _in.Remaining)
            throw new DicomFormatException($"Value length {length} exceeds the {_in.Remaining} bytes remaining", start, tag);

        if (_path != null && !_in.IsDeflated && _options.LargeValueThreshold is { } threshold && length > threshold)
        {
            var buffer = new FileRangeBuffer(_path, _in.FileOffset, length, _bigEndian ? SwapUnit(vr) : 1);
            _in.Skip(length, tag);
            return new DicomValueElement(tag, vr, buffer);
        }

        var bytes = _in.ReadBytes(length, tag);
        if (_bigEndian) ByteSwap.InPlace(bytes, SwapUnit(vr));
        return new DicomValueElement(tag, vr, DicomBuffer.From(bytes));
    }

    internal static int SwapUnit(DicomVR vr) => vr switch
    {
        DicomVR.AT => 2,
        _ => vr.ValueSize() is var s and > 1 ? s : 1,
    };

    /// <summary>
    /// Reads the items of a sequence. A defined-length sequence or item whose length runs past the end of the input is closed
    /// where the input ends, provided that happens between two elements: DCMTK and pydicom read such files too (e.g. pydicom's
    /// DICOMDIR-nooffset, where elements were deleted without fixing the lengths), and everything the file holds is kept.
    /// The file gets a warning. A value cut short, or content overrunning its declared end, is an error.
    /// </summary>
    private DicomSequence ReadSequence(DicomDataset owner, DicomTag tag, long end, bool undefined)
    {
        if (++_depth > _options.MaxDepth) throw new DicomFormatException($"Sequences nested deeper than {_options.MaxDepth}", _in.Position, tag);
        // Linked to its owner before the items are read, so nested US/SS resolution can see Pixel Representation outside.
        var seq = new DicomSequence(tag) { Owner = owner };
        while (undefined || _in.Position < end)
        {
            long at = _in.Position;
            if (!undefined && _in.AtEnd)
            {
                Warn($"Input ended {end - at} bytes before the declared end of sequence {tag}", at);
                break;
            }
            if (!_in.TryEnsure(8)) throw new DicomFormatException("Data ended inside a sequence", at, tag);
            var itemTag = _in.ReadTag(_bigEndian);
            var len = _in.ReadUInt32(_bigEndian);
            if (itemTag == DicomTag.SequenceDelimitationItem)
            {
                if (undefined) break;
                continue; // stray delimiter inside a defined-length sequence: harmless
            }
            if (itemTag != DicomTag.Item)
                throw new DicomFormatException($"Expected an item tag in sequence, found {itemTag}", at, tag);
            var item = new DicomDataset();
            // Items must know their owner before reading so US/SS resolution and character sets can see outer elements.
            seq.Items.Add(item);
            if (len == 0xFFFFFFFF)
                ReadElements(item, long.MaxValue, topLevel: false, undefinedItem: true);
            else
                ReadElements(item, _in.Position + len, topLevel: false, undefinedItem: false);
        }
        if (!undefined && _in.Position > end) throw new DicomFormatException($"Items run {_in.Position - end} bytes past the end of the sequence", _in.Position, tag);
        _depth--;
        return seq;
    }

    private DicomFragmentSequence ReadFragments(DicomTag tag, DicomVR vr)
    {
        DicomBuffer? offsetTable = null;
        var fragments = new List<DicomBuffer>();
        while (true)
        {
            long at = _in.Position;
            if (!_in.TryEnsure(8)) throw new DicomFormatException("Data ended inside encapsulated pixel data", at, tag);
            var itemTag = _in.ReadTag(_bigEndian);
            var len = _in.ReadUInt32(_bigEndian);
            if (itemTag == DicomTag.SequenceDelimitationItem) break;
            if (itemTag != DicomTag.Item) throw new DicomFormatException($"Expected a fragment item, found {itemTag}", at, tag);
            if (len == 0xFFFFFFFF) throw new DicomFormatException("Fragment with undefined length", at, tag);
            if (len > _in.Remaining) throw new DicomFormatException($"Fragment length {len} exceeds the {_in.Remaining} bytes remaining", at, tag);
            DicomBuffer buf;
            if (_path != null && !_in.IsDeflated && _options.LargeValueThreshold is { } threshold && len > threshold)
            {
                buf = new FileRangeBuffer(_path, _in.FileOffset, len);
                _in.Skip(len, tag);
            }
            else
            {
                buf = DicomBuffer.From(_in.ReadBytes(len, tag));
            }
            if (offsetTable is null) offsetTable = buf; else fragments.Add(buf);
        }
        return new DicomFragmentSequence(tag, vr, offsetTable ?? DicomBuffer.Empty, fragments);
    }
}
