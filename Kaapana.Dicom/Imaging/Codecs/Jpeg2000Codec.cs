using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Kaapana.Dicom.Imaging.Codecs;

/// <summary>
/// JPEG 2000 (ISO 15444-1) decoding through OpenJPEG 2 (Debian <c>libopenjp2-7</c>), loaded at first use, reading from a
/// memory stream. Raw codestreams and JP2 files (seen in the wild) are accepted. The decoded image's component count,
/// size, sub-sampling and precision are checked against the data set before its samples are copied. Multi-component
/// transforms (YBR_ICT, YBR_RCT) are undone by OpenJPEG: the result is RGB, as gdcmconv and DCMTK plug-ins report it.
/// </summary>
public sealed unsafe class Jpeg2000Codec : IDicomCodec
{
    private static readonly NativeLibraryHandle OpenJpeg = new("libopenjp2-7", "libopenjp2.so.7", "libopenjp2.so", "openjp2");

    /// <summary>Whether libopenjp2-7 can be loaded here.</summary>
    public static bool IsNativeLibraryAvailable => OpenJpeg.IsAvailable;

    public IReadOnlyList<DicomTransferSyntax> TransferSyntaxes { get; } = [DicomTransferSyntax.JPEG2000Lossless, DicomTransferSyntax.JPEG2000];

    public bool CanEncode(DicomTransferSyntax syntax, PixelDataInfo info) => false;

    public EncodedFrame Encode(ReadOnlySpan<byte> frame, PixelDataInfo info, DicomTransferSyntax syntax) =>
        throw new DicomCodecException("JPEG 2000 encoding is not implemented", syntax);

    // opj_image_t and opj_image_comp_t of OpenJPEG 2.5 (LP64): offsets checked against openjpeg.h with offsetof.
    [StructLayout(LayoutKind.Sequential)]
    private struct OpjImage
    {
        public uint X0, Y0, X1, Y1, NumComps;
        public int ColorSpace;
        public OpjImageComp* Comps;
        public byte* IccProfileBuf;
        public uint IccProfileLen;
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct OpjImageComp
    {
        public uint Dx, Dy, W, H, X0, Y0, Prec, Bpp, Sgnd, ResnoDecoded, Factor;
        public int* Data;
        public ushort Alpha;
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct MemoryStreamState
    {
        public byte* Data;
        public long Length;
        public long Position;
    }

    private const int DecoderParametersSize = 8252; // sizeof(opj_dparameters_t) in 2.5; a larger buffer is allocated

    private static class Api
    {
        public static readonly delegate* unmanaged[Cdecl]<nuint, int, IntPtr> StreamCreate = (delegate* unmanaged[Cdecl]<nuint, int, IntPtr>)OpenJpeg.Export("opj_stream_create");
        public static readonly delegate* unmanaged[Cdecl]<IntPtr, void> StreamDestroy = (delegate* unmanaged[Cdecl]<IntPtr, void>)OpenJpeg.Export("opj_stream_destroy");
        public static readonly delegate* unmanaged[Cdecl]<IntPtr, IntPtr, void> SetRead = (delegate* unmanaged[Cdecl]<IntPtr, IntPtr, void>)OpenJpeg.Export("opj_stream_set_read_function");
        public static readonly delegate* unmanaged[Cdecl]<IntPtr, IntPtr, void> SetSkip = (delegate* unmanaged[Cdecl]<IntPtr, IntPtr, void>)OpenJpeg.Export("opj_stream_set_skip_function");
        public static readonly delegate* unmanaged[Cdecl]<IntPtr, IntPtr, void> SetSeek = (delegate* unmanaged[Cdecl]<IntPtr, IntPtr, void>)OpenJpeg.Export("opj_stream_set_seek_function");
        public static readonly delegate* unmanaged[Cdecl]<IntPtr, void*, IntPtr, void> SetUserData = (delegate* unmanaged[Cdecl]<IntPtr, void*, IntPtr, void>)OpenJpeg.Export("opj_stream_set_user_data");
        public static readonly delegate* unmanaged[Cdecl]<IntPtr, ulong, void> SetUserDataLength = (delegate* unmanaged[Cdecl]<IntPtr, ulong, void>)OpenJpeg.Export("opj_stream_set_user_data_length");
        public static readonly delegate* unmanaged[Cdecl]<int, IntPtr> CreateDecompress = (delegate* unmanaged[Cdecl]<int, IntPtr>)OpenJpeg.Export("opj_create_decompress");
        public static readonly delegate* unmanaged[Cdecl]<IntPtr, void> DestroyCodec = (delegate* unmanaged[Cdecl]<IntPtr, void>)OpenJpeg.Export("opj_destroy_codec");
        public static readonly delegate* unmanaged[Cdecl]<void*, void> SetDefaultDecoderParameters = (delegate* unmanaged[Cdecl]<void*, void>)OpenJpeg.Export("opj_set_default_decoder_parameters");
        public static readonly delegate* unmanaged[Cdecl]<IntPtr, void*, int> SetupDecoder = (delegate* unmanaged[Cdecl]<IntPtr, void*, int>)OpenJpeg.Export("opj_setup_decoder");
        public static readonly delegate* unmanaged[Cdecl]<IntPtr, IntPtr, void*, int> SetErrorHandler = (delegate* unmanaged[Cdecl]<IntPtr, IntPtr, void*, int>)OpenJpeg.Export("opj_set_error_handler");
        public static readonly delegate* unmanaged[Cdecl]<IntPtr, IntPtr, void*, int> SetWarningHandler = (delegate* unmanaged[Cdecl]<IntPtr, IntPtr, void*, int>)OpenJpeg.Export("opj_set_warning_handler");
        public static readonly delegate* unmanaged[Cdecl]<IntPtr, IntPtr, OpjImage**, int> ReadHeader = (delegate* unmanaged[Cdecl]<IntPtr, IntPtr, OpjImage**, int>)OpenJpeg.Export("opj_read_header");
        public static readonly delegate* unmanaged[Cdecl]<IntPtr, IntPtr, OpjImage*, int> DecodeImage = (delegate* unmanaged[Cdecl]<IntPtr, IntPtr, OpjImage*, int>)OpenJpeg.Export("opj_decode");
        public static readonly delegate* unmanaged[Cdecl]<IntPtr, IntPtr, int> EndDecompress = (delegate* unmanaged[Cdecl]<IntPtr, IntPtr, int>)OpenJpeg.Export("opj_end_decompress");
        public static readonly delegate* unmanaged[Cdecl]<OpjImage*, void> ImageDestroy = (delegate* unmanaged[Cdecl]<OpjImage*, void>)OpenJpeg.Export("opj_image_destroy");
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static nuint Read(void* buffer, nuint count, void* user)
    {
        var s = (MemoryStreamState*)user;
        long left = s->Length - s->Position;
        if (left <= 0) return unchecked((nuint)(-1));
        long n = Math.Min((long)count, left);
        Buffer.MemoryCopy(s->Data + s->Position, buffer, (long)count, n);
        s->Position += n;
        return (nuint)n;
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static long Skip(long count, void* user)
    {
        var s = (MemoryStreamState*)user;
        long target = Math.Clamp(s->Position + count, 0, s->Length);
        long skipped = target - s->Position;
        s->Position = target;
        return skipped == 0 && count != 0 ? -1 : skipped;
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int Seek(long offset, void* user)
    {
        var s = (MemoryStreamState*)user;
        if (offset < 0 || offset > s->Length) return 0;
        s->Position = offset;
        return 1;
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static void OnError(byte* message, void* user)
    {
        var handle = GCHandle.FromIntPtr((IntPtr)user);
        if (handle.Target is List<string> list && list.Count < 20)
            list.Add((Marshal.PtrToStringUTF8((IntPtr)message) ?? "").Trim());
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static void OnWarning(byte* message, void* user) { }

    public DecodedFrame Decode(ReadOnlyMemory<byte> encoded, PixelDataInfo info, DicomTransferSyntax syntax)
    {
        if (info.BitsAllocated is not (8 or 16 or 32))
            throw new DicomCodecException($"JPEG 2000 with Bits Allocated {info.BitsAllocated} is not supported", syntax);
        var span = encoded.Span;
        int format;
        if (span.Length >= 4 && span[0] == 0xFF && span[1] == 0x4F && span[2] == 0xFF && span[3] == 0x51) format = 0; // OPJ_CODEC_J2K
        else if (span.Length >= 12 && span[4] == 0x6A && span[5] == 0x50 && span[6] == 0x20 && span[7] == 0x20) format = 2; // OPJ_CODEC_JP2
        else throw new DicomCodecException("Frame is neither a JPEG 2000 codestream (FF4F FF51) nor a JP2 file", syntax);
        OpenJpeg.Export("opj_create_decompress"); // a missing library fails here, naming the package

        var errors = new List<string>();
        var errorsHandle = GCHandle.Alloc(errors);
        var state = (MemoryStreamState*)NativeMemory.AllocZeroed((nuint)sizeof(MemoryStreamState));
        var parameters = NativeMemory.AllocZeroed((nuint)(DecoderParametersSize * 2));
        IntPtr codec = IntPtr.Zero, stream = IntPtr.Zero;
        OpjImage* image = null;
        try
        {
            using var pin = encoded.Pin();
            state->Data = (byte*)pin.Pointer;
            state->Length = encoded.Length;
            codec = Api.CreateDecompress(format);
            if (codec == IntPtr.Zero) throw new DicomCodecException("OpenJPEG could not create a decoder", syntax);
            Api.SetErrorHandler(codec, (IntPtr)(delegate* unmanaged[Cdecl]<byte*, void*, void>)&OnError, (void*)GCHandle.ToIntPtr(errorsHandle));
            Api.SetWarningHandler(codec, (IntPtr)(delegate* unmanaged[Cdecl]<byte*, void*, void>)&OnWarning, null);
            Api.SetDefaultDecoderParameters(parameters);
            if (Api.SetupDecoder(codec, parameters) == 0) throw Failure("setting up the decoder", errors, syntax);

            stream = Api.StreamCreate(64 * 1024, 1);
            if (stream == IntPtr.Zero) throw new DicomCodecException("OpenJPEG could not create a stream", syntax);
            Api.SetRead(stream, (IntPtr)(delegate* unmanaged[Cdecl]<void*, nuint, void*, nuint>)&Read);
            Api.SetSkip(stream, (IntPtr)(delegate* unmanaged[Cdecl]<long, void*, long>)&Skip);
            Api.SetSeek(stream, (IntPtr)(delegate* unmanaged[Cdecl]<long, void*, int>)&Seek);
            Api.SetUserData(stream, state, IntPtr.Zero);
            Api.SetUserDataLength(stream, (ulong)encoded.Length);

            if (Api.ReadHeader(stream, codec, &image) == 0 || image == null) throw Failure("reading the header", errors, syntax);
            CheckImage(image, info, syntax, afterDecode: false);
            if (Api.DecodeImage(codec, stream, image) == 0) throw Failure("decoding", errors, syntax);
            Api.EndDecompress(codec, stream);
            CheckImage(image, info, syntax, afterDecode: true);
            return Copy(image, info);
        }
        finally
        {
            if (image != null) Api.ImageDestroy(image);
            if (stream != IntPtr.Zero) Api.StreamDestroy(stream);
            if (codec != IntPtr.Zero) Api.DestroyCodec(codec);
            NativeMemory.Free(parameters);
            NativeMemory.Free(state);
            errorsHandle.Free();
        }
    }

    private static DicomCodecException Failure(string step, List<string> errors, DicomTransferSyntax syntax) =>
        new($"JPEG 2000 {step} failed{(errors.Count > 0 ? ": " + string.Join("; ", errors.Distinct()) : "")}", syntax);

    private static void CheckImage(OpjImage* image, PixelDataInfo info, DicomTransferSyntax syntax, bool afterDecode)
    {
        if (image->NumComps != info.SamplesPerPixel || image->Comps == null)
            throw new DicomCodecException($"JPEG 2000 image has {image->NumComps} components, the data set says {info.SamplesPerPixel} samples per pixel", syntax);
        for (int c = 0; c < image->NumComps; c++)
        {
            var comp = &image->Comps[c];
            if (comp->W != info.Columns || comp->H != info.Rows || comp->Dx != 1 || comp->Dy != 1)
                throw new DicomCodecException($"JPEG 2000 component {c} is {comp->W}x{comp->H} (sub-sampling {comp->Dx}x{comp->Dy}), the data set says {info.Columns}x{info.Rows}", syntax);
            if (comp->Prec < 1 || comp->Prec > Math.Min(info.BitsAllocated, 31))
                throw new DicomCodecException($"JPEG 2000 component {c} has {comp->Prec} bits, more than Bits Allocated {info.BitsAllocated}", syntax);
            if (afterDecode && comp->Data == null)
                throw new DicomCodecException($"JPEG 2000 component {c} was not decoded", syntax);
        }
    }

    private static DecodedFrame Copy(OpjImage* image, PixelDataInfo info)
    {
        int spp = info.SamplesPerPixel, bps = info.BytesPerSample;
        long pixels = info.PixelsPerFrame;
        var output = new byte[info.FrameLength];
        fixed (byte* dst = output)
        {
            for (int c = 0; c < spp; c++)
            {
                var comp = &image->Comps[c];
                int* src = comp->Data;
                for (long p = 0; p < pixels; p++)
                {
                    int v = src[p];
                    byte* at = dst + (p * spp + c) * bps;
                    switch (bps)
                    {
                        case 1: *at = (byte)v; break;
                        case 2: *(short*)at = (short)v; break;
                        default: *(int*)at = v; break;
                    }
                }
            }
        }
        var pi = info.PhotometricInterpretation is PhotometricInterpretation.YbrIct or PhotometricInterpretation.YbrRct
            ? PhotometricInterpretation.Rgb : info.PhotometricInterpretation;
        return new DecodedFrame(output, info with { PlanarConfiguration = 0, PhotometricInterpretation = pi });
    }
}
