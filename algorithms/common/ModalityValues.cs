using System.Buffers.Binary;
using Kaapana.Dicom.Imaging;

namespace Kaapana.Algorithms;

/// <summary>Stored pixel values of a native grey frame (any Bits Stored / High Bit / sign) mapped to modality values (HU for CT).</summary>
public static class ModalityValues
{
    public static void Fill(ReadOnlySpan<byte> data, PixelDataInfo info, ModalityTransform modality, Span<double> values)
    {
        int count = (int)info.PixelsPerFrame;
        if (values.Length < count) throw new ArgumentException("The value buffer is smaller than the frame.", nameof(values));
        int bits = info.BitsStored, shift = info.HighBit + 1 - bits;
        if (info.BitsAllocated is not (8 or 16 or 32) || bits > 32)
            throw new Kaapana.Dicom.Imaging.DicomPixelDataException($"Bits Allocated {info.BitsAllocated} is not a grey-scale image this algorithm reads");
        if (data.Length < count * info.BytesPerSample) throw new Kaapana.Dicom.Imaging.DicomPixelDataException("The frame holds fewer bytes than its size needs");
        if (bits <= 16)
        {
            // At most 65,536 stored values: map each once, then one lookup per pixel.
            int size = 1 << bits, offset = info.IsSigned ? size / 2 : 0;
            var table = new double[size];
            for (int i = 0; i < size; i++) table[i] = modality.Apply(i - offset);
            for (int p = 0; p < count; p++) values[p] = table[Stored(data, info.BitsAllocated, p, shift, bits, info.IsSigned) + offset];
        }
        else
        {
            for (int p = 0; p < count; p++) values[p] = modality.Apply(Stored(data, info.BitsAllocated, p, shift, bits, info.IsSigned));
        }
    }

    // The Bits Stored bits ending at High Bit, sign-extended when Pixel Representation is 1 (PS3.5 8.1.1).
    private static long Stored(ReadOnlySpan<byte> data, int bitsAllocated, int p, int shift, int bits, bool signed)
    {
        ulong raw = bitsAllocated switch
        {
            8 => data[p],
            16 => BinaryPrimitives.ReadUInt16LittleEndian(data.Slice(p * 2, 2)),
            _ => BinaryPrimitives.ReadUInt32LittleEndian(data.Slice(p * 4, 4)),
        };
        ulong mask = (1UL << bits) - 1;
        long v = (long)((raw >> shift) & mask);
        if (signed && (v & (1L << (bits - 1))) != 0) v -= 1L << bits;
        return v;
    }
}
