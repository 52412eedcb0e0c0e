namespace Kaapana.Dicom.Imaging.Codecs;

/// <summary>A native frame and the description of its layout (which may differ from the source, e.g. YBR_FULL_422 → RGB).</summary>
public sealed record DecodedFrame(byte[] Data, PixelDataInfo Info);

/// <summary>An encoded frame and the Image Pixel description that goes with the encoded data set.</summary>
public sealed record EncodedFrame(byte[] Data, PixelDataInfo Info);

/// <summary>
/// A pixel data codec for one or more transfer syntaxes. Implementations validate every size taken from the bitstream
/// against <see cref="PixelDataInfo"/> and raise <see cref="DicomCodecException"/> for anything they cannot decode.
/// </summary>
public interface IDicomCodec
{
    /// <summary>The transfer syntaxes this codec decodes.</summary>
    IReadOnlyList<DicomTransferSyntax> TransferSyntaxes { get; }

    /// <summary>Whether <see cref="Encode"/> supports <paramref name="syntax"/> for data described by <paramref name="info"/>.</summary>
    bool CanEncode(DicomTransferSyntax syntax, PixelDataInfo info);

    /// <summary>Decodes one frame to native layout (little endian, colour-by-pixel unless the result says otherwise).</summary>
    DecodedFrame Decode(ReadOnlyMemory<byte> encoded, PixelDataInfo info, DicomTransferSyntax syntax);

    /// <summary>Encodes one native frame (layout given by <paramref name="info"/>).</summary>
    EncodedFrame Encode(ReadOnlySpan<byte> frame, PixelDataInfo info, DicomTransferSyntax syntax);
}

/// <summary>
/// Codecs registered explicitly per transfer syntax (no reflection scanning): <c>new DicomCodecs().Add&lt;RleCodec&gt;()</c>.
/// <see cref="Default"/> holds every built-in codec and cannot be changed; build your own instance to choose.
/// </summary>
public sealed class DicomCodecs
{
    private readonly Dictionary<string, IDicomCodec> _byUid = new(StringComparer.Ordinal);
    private bool _frozen;

    /// <summary>RLE, JPEG (baseline, extended, lossless), JPEG-LS, JPEG 2000 and encapsulated uncompressed.</summary>
    public static DicomCodecs Default { get; } = new DicomCodecs()
        .Add<RleCodec>()
        .Add<JpegCodec>()
        .Add<JpegLsCodec>()
        .Add<Jpeg2000Codec>()
        .Add<EncapsulatedUncompressedCodec>()
        .Freeze();

    public DicomCodecs Add<T>() where T : IDicomCodec, new() => Add(new T());

    /// <summary>Registers <paramref name="codec"/> for each of its transfer syntaxes, replacing an earlier registration.</summary>
    public DicomCodecs Add(IDicomCodec codec)
    {
        if (_frozen) throw new InvalidOperationException("This codec registry is read-only; create a new DicomCodecs to register codecs.");
        foreach (var ts in codec.TransferSyntaxes) _byUid[ts.Uid] = codec;
        return this;
    }

    /// <summary>Makes the registry read-only.</summary>
    public DicomCodecs Freeze()
    {
        _frozen = true;
        return this;
    }

    public IEnumerable<DicomTransferSyntax> SupportedTransferSyntaxes => _byUid.Values.SelectMany(c => c.TransferSyntaxes).DistinctBy(t => t.Uid);

    public bool TryGetCodec(DicomTransferSyntax syntax, out IDicomCodec codec) => _byUid.TryGetValue(syntax.Uid, out codec!);

    public IDicomCodec GetCodec(DicomTransferSyntax syntax) =>
        TryGetCodec(syntax, out var c) ? c : throw new DicomCodecException("No codec is registered for this transfer syntax", syntax);

    /// <summary>Frame <paramref name="index"/> in native layout: native frames as they are, encapsulated ones decoded.</summary>
    public DecodedFrame DecodeFrame(DicomPixelData pixelData, int index)
    {
        var raw = pixelData.GetFrame(index);
        var info = pixelData.Info with { NumberOfFrames = 1 };
        if (!pixelData.IsEncapsulated) return new DecodedFrame(raw.ToArray(), info);
        return Decode(raw, info, pixelData.TransferSyntax, index);
    }

    /// <summary>Decodes one encoded frame; any failure of the codec surfaces as <see cref="DicomCodecException"/>.</summary>
    public DecodedFrame Decode(ReadOnlyMemory<byte> encoded, PixelDataInfo info, DicomTransferSyntax syntax, int? frameIndex = null)
    {
        var codec = GetCodec(syntax);
        try
        {
            var result = codec.Decode(encoded, info, syntax);
            if (result.Data.Length < result.Info.FrameLength)
                throw new DicomCodecException($"Decoder returned {result.Data.Length} bytes, a frame needs {result.Info.FrameLength}", syntax, frameIndex);
            return result;
        }
        catch (DicomCodecException ex) when (frameIndex != null && ex.Frame == null)
        {
            throw new DicomCodecException(ex.Message, null, frameIndex, ex);
        }
        catch (Exception ex) when (ex is not DicomCodecException and not OutOfMemoryException and not OperationCanceledException)
        {
            throw new DicomCodecException($"Corrupt or unsupported compressed data: {ex.Message}", syntax, frameIndex, ex);
        }
    }

    public EncodedFrame Encode(ReadOnlySpan<byte> frame, PixelDataInfo info, DicomTransferSyntax syntax)
    {
        var codec = GetCodec(syntax);
        if (!codec.CanEncode(syntax, info))
            throw new DicomCodecException($"Encoding {info.SamplesPerPixel}x{info.BitsAllocated}-bit ({info.BitsStored} stored) {info.PhotometricInterpretation} is not supported", syntax);
        try
        {
            return codec.Encode(frame, info, syntax);
        }
        catch (Exception ex) when (ex is not DicomCodecException and not OutOfMemoryException and not OperationCanceledException)
        {
            throw new DicomCodecException($"Encoding failed: {ex.Message}", syntax, null, ex);
        }
    }
}

/// <summary>Encapsulated Uncompressed Explicit VR Little Endian (1.2.840.10008.1.2.1.98): each frame is a native frame in fragments.</summary>
public sealed class EncapsulatedUncompressedCodec : IDicomCodec
{
    public IReadOnlyList<DicomTransferSyntax> TransferSyntaxes { get; } = [DicomTransferSyntax.EncapsulatedUncompressedExplicitVRLittleEndian];

    public bool CanEncode(DicomTransferSyntax syntax, PixelDataInfo info) => info.BitsAllocated != 1;

    public DecodedFrame Decode(ReadOnlyMemory<byte> encoded, PixelDataInfo info, DicomTransferSyntax syntax)
    {
        if (encoded.Length < info.FrameLength)
            throw new DicomCodecException($"Frame holds {encoded.Length} bytes, {info.FrameLength} expected", syntax);
        return new DecodedFrame(encoded[..(int)info.FrameLength].ToArray(), info);
    }

    public EncodedFrame Encode(ReadOnlySpan<byte> frame, PixelDataInfo info, DicomTransferSyntax syntax) =>
        new(frame[..(int)info.FrameLength].ToArray(), info);
}
