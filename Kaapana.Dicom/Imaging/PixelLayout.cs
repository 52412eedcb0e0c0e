namespace Kaapana.Dicom.Imaging;

/// <summary>Rearranges native frames between colour-by-plane and colour-by-pixel (Planar Configuration 1 and 0).</summary>
public static class PixelLayout
{
    /// <summary>R…G…B… to RGBRGB… for a frame described by <paramref name="info"/> (any byte depth).</summary>
    public static byte[] PlanarToInterleaved(ReadOnlySpan<byte> frame, PixelDataInfo info)
    {
        int spp = info.SamplesPerPixel, bps = info.BytesPerSample;
        long pixels = info.PixelsPerFrame;
        var result = new byte[info.FrameLength];
        for (int s = 0; s < spp; s++)
            for (long p = 0; p < pixels; p++)
                frame.Slice((int)((s * pixels + p) * bps), bps).CopyTo(result.AsSpan((int)((p * spp + s) * bps), bps));
        return result;
    }

    /// <summary>RGBRGB… to R…G…B….</summary>
    public static byte[] InterleavedToPlanar(ReadOnlySpan<byte> frame, PixelDataInfo info)
    {
        int spp = info.SamplesPerPixel, bps = info.BytesPerSample;
        long pixels = info.PixelsPerFrame;
        var result = new byte[info.FrameLength];
        for (int s = 0; s < spp; s++)
            for (long p = 0; p < pixels; p++)
                frame.Slice((int)((p * spp + s) * bps), bps).CopyTo(result.AsSpan((int)((s * pixels + p) * bps), bps));
        return result;
    }
}
