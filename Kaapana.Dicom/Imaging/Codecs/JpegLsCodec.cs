using System.Runtime.InteropServices;

namespace Kaapana.Dicom.Imaging.Codecs;

/// <summary>
/// JPEG-LS lossless and near-lossless (ISO 14495-1) decoding through CharLS 2 (Debian <c>libcharls2</c>) and its C API
/// (<c>charls_jpegls_decoder_*</c>), loaded at first use. The frame header is checked against the data set before any
/// buffer is handed to the library, and the destination size the library asks for is checked against the frame size.
/// </summary>
public sealed unsafe class JpegLsCodec : IDicomCodec
{
    private static readonly NativeLibraryHandle CharLS = new("libcharls2", "libcharls.so.2", "libcharls.so", "charls");

    /// <summary>Whether libcharls2 can be loaded here.</summary>
    public static bool IsNativeLibraryAvailable => CharLS.IsAvailable;

    public IReadOnlyList<DicomTransferSyntax> TransferSyntaxes { get; } = [DicomTransferSyntax.JPEGLSLossless, DicomTransferSyntax.JPEGLSNearLossless];

    public bool CanEncode(DicomTransferSyntax syntax, PixelDataInfo info) => false;

    public EncodedFrame Encode(ReadOnlySpan<byte> frame, PixelDataInfo info, DicomTransferSyntax syntax) =>
        throw new DicomCodecException("JPEG-LS encoding is not implemented", syntax);

    [StructLayout(LayoutKind.Sequential)]
    private struct FrameInfo
    {
        public uint Width;
        public uint Height;
        public int BitsPerSample;
        public int ComponentCount;
    }

    private static class Api
    {
        public static readonly delegate* unmanaged[Cdecl]<IntPtr> Create = (delegate* unmanaged[Cdecl]<IntPtr>)CharLS.Export("charls_jpegls_decoder_create");
        public static readonly delegate* unmanaged[Cdecl]<IntPtr, void> Destroy = (delegate* unmanaged[Cdecl]<IntPtr, void>)CharLS.Export("charls_jpegls_decoder_destroy");
        public static readonly delegate* unmanaged[Cdecl]<IntPtr, byte*, nuint, int> SetSource = (delegate* unmanaged[Cdecl]<IntPtr, byte*, nuint, int>)CharLS.Export("charls_jpegls_decoder_set_source_buffer");
        public static readonly delegate* unmanaged[Cdecl]<IntPtr, int> ReadHeader = (delegate* unmanaged[Cdecl]<IntPtr, int>)CharLS.Export("charls_jpegls_decoder_read_header");
        public static readonly delegate* unmanaged[Cdecl]<IntPtr, FrameInfo*, int> GetFrameInfo = (delegate* unmanaged[Cdecl]<IntPtr, FrameInfo*, int>)CharLS.Export("charls_jpegls_decoder_get_frame_info");
        public static readonly delegate* unmanaged[Cdecl]<IntPtr, int*, int> GetInterleaveMode = (delegate* unmanaged[Cdecl]<IntPtr, int*, int>)CharLS.Export("charls_jpegls_decoder_get_interleave_mode");
        public static readonly delegate* unmanaged[Cdecl]<IntPtr, uint, nuint*, int> GetDestinationSize = (delegate* unmanaged[Cdecl]<IntPtr, uint, nuint*, int>)CharLS.Export("charls_jpegls_decoder_get_destination_size");
        public static readonly delegate* unmanaged[Cdecl]<IntPtr, byte*, nuint, uint, int> DecodeToBuffer = (delegate* unmanaged[Cdecl]<IntPtr, byte*, nuint, uint, int>)CharLS.Export("charls_jpegls_decoder_decode_to_buffer");
        public static readonly delegate* unmanaged[Cdecl]<int, IntPtr> ErrorMessage = (delegate* unmanaged[Cdecl]<int, IntPtr>)CharLS.Export("charls_get_error_message");
    }

    private static void Check(int rc, string step, DicomTransferSyntax syntax)
    {
        if (rc == 0) return;
        var msg = Marshal.PtrToStringUTF8(Api.ErrorMessage(rc)) ?? "unknown error";
        throw new DicomCodecException($"JPEG-LS {step} failed: {msg} (CharLS error {rc})", syntax);
    }

    public DecodedFrame Decode(ReadOnlyMemory<byte> encoded, PixelDataInfo info, DicomTransferSyntax syntax)
    {
        if (info.BitsAllocated is not (8 or 16))
            throw new DicomCodecException($"JPEG-LS with Bits Allocated {info.BitsAllocated} is not supported", syntax);
        if (encoded.Length < 4) throw new DicomCodecException("JPEG-LS frame is empty", syntax);
        RuntimeHelpers();
        var decoder = Api.Create();
        if (decoder == IntPtr.Zero) throw new DicomCodecException("CharLS could not create a decoder", syntax);
        try
        {
            using var pin = encoded.Pin();
            Check(Api.SetSource(decoder, (byte*)pin.Pointer, (nuint)encoded.Length), "reading the source", syntax);
            Check(Api.ReadHeader(decoder), "reading the header", syntax);
            FrameInfo fi;
            Check(Api.GetFrameInfo(decoder, &fi), "reading the frame info", syntax);
            if (fi.Width != info.Columns || fi.Height != info.Rows || fi.ComponentCount != info.SamplesPerPixel)
                throw new DicomCodecException($"JPEG-LS stream is {fi.Width}x{fi.Height}x{fi.ComponentCount}, the data set says {info.Columns}x{info.Rows}x{info.SamplesPerPixel}", syntax);
            int bytesPerSample = fi.BitsPerSample <= 8 ? 1 : 2;
            if (fi.BitsPerSample < 2 || fi.BitsPerSample > 16 || bytesPerSample != info.BytesPerSample)
                throw new DicomCodecException($"JPEG-LS stream has {fi.BitsPerSample} bits per sample, the data set has Bits Allocated {info.BitsAllocated}", syntax);
            int interleave;
            Check(Api.GetInterleaveMode(decoder, &interleave), "reading the interleave mode", syntax);
            nuint size;
            Check(Api.GetDestinationSize(decoder, 0, &size), "computing the destination size", syntax);
            if (size != (nuint)info.FrameLength)
                throw new DicomCodecException($"JPEG-LS decoder needs {size} bytes for a frame of {info.FrameLength}", syntax);
            var output = new byte[info.FrameLength];
            fixed (byte* dst = output)
                Check(Api.DecodeToBuffer(decoder, dst, (nuint)output.Length, 0), "decoding", syntax);
            // Interleave mode none (0) yields colour-by-plane, line (1) and sample (2) colour-by-pixel.
            var outInfo = info with { PlanarConfiguration = info.SamplesPerPixel > 1 && interleave == 0 ? 1 : 0 };
            if (outInfo.PlanarConfiguration == 1) { output = PixelLayout.PlanarToInterleaved(output, outInfo); outInfo = outInfo with { PlanarConfiguration = 0 }; }
            return new DecodedFrame(output, outInfo);
        }
        finally
        {
            Api.Destroy(decoder);
        }
    }

    /// <summary>Resolves the exports now, so a missing library fails here with the package name rather than in a type initializer.</summary>
    private static void RuntimeHelpers() => CharLS.Export("charls_jpegls_decoder_create");
}
