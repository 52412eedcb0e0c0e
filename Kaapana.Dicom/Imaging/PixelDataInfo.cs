namespace Kaapana.Dicom.Imaging;

/// <summary>Photometric Interpretation (0028,0004) defined terms (PS3.3 C.7.6.3.1.2) and helpers.</summary>
public static class PhotometricInterpretation
{
    public const string Monochrome1 = "MONOCHROME1";
    public const string Monochrome2 = "MONOCHROME2";
    public const string PaletteColor = "PALETTE COLOR";
    public const string Rgb = "RGB";
    public const string YbrFull = "YBR_FULL";
    public const string YbrFull422 = "YBR_FULL_422";
    public const string YbrPartial420 = "YBR_PARTIAL_420";
    public const string YbrIct = "YBR_ICT";
    public const string YbrRct = "YBR_RCT";

    public static bool IsMonochrome(string pi) => pi is Monochrome1 or Monochrome2;
    public static bool IsYbr(string pi) => pi.StartsWith("YBR", StringComparison.Ordinal);
}

/// <summary>
/// The Image Pixel module attributes that describe how pixel data is laid out (PS3.3 C.7.6.3): dimensions, sample
/// layout and bit depth. Immutable; <c>with</c> expressions give the description of a decoded or re-encoded frame.
/// </summary>
public sealed record PixelDataInfo
{
    public int Rows { get; init; }
    public int Columns { get; init; }
    public int NumberOfFrames { get; init; } = 1;
    public int SamplesPerPixel { get; init; } = 1;
    public int BitsAllocated { get; init; } = 16;
    public int BitsStored { get; init; } = 16;
    public int HighBit { get; init; } = 15;
    /// <summary>0 unsigned, 1 two's complement.</summary>
    public int PixelRepresentation { get; init; }
    /// <summary>0 colour-by-pixel (R1G1B1R2…), 1 colour-by-plane (R…G…B…). Meaningful only with 3 samples.</summary>
    public int PlanarConfiguration { get; init; }
    public string PhotometricInterpretation { get; init; } = Imaging.PhotometricInterpretation.Monochrome2;

    public bool IsSigned => PixelRepresentation == 1;
    public int BytesPerSample => BitsAllocated <= 8 ? 1 : BitsAllocated <= 16 ? 2 : 4;
    public long PixelsPerFrame => (long)Rows * Columns;

    /// <summary>
    /// Native YBR_FULL_422 / YBR_PARTIAL_422 frames hold two luminance samples and one pair of chrominance samples per two
    /// pixels (PS3.3 C.7.6.3.1.2): 2 samples per pixel in the buffer although Samples per Pixel is 3.
    /// </summary>
    public bool IsChromaSubsampled => SamplesPerPixel == 3 && PhotometricInterpretation is Imaging.PhotometricInterpretation.YbrFull422 or "YBR_PARTIAL_422";

    /// <summary>Samples in one native frame.</summary>
    public long SamplesPerFrame => IsChromaSubsampled ? PixelsPerFrame * 2 : PixelsPerFrame * SamplesPerPixel;

    /// <summary>Bits of one native frame (frames of 1-bit data are packed without padding, PS3.5 8.1.1).</summary>
    public long FrameBits => SamplesPerFrame * BitsAllocated;

    /// <summary>Bytes of one native frame as this library hands it out: 1-bit frames are padded to a whole byte.</summary>
    public long FrameLength => BitsAllocated == 1 ? (FrameBits + 7) / 8 : SamplesPerFrame * BytesPerSample;

    /// <summary>Reads the Image Pixel module of <paramref name="ds"/>; throws <see cref="DicomPixelDataException"/> when it is absent or inconsistent.</summary>
    public static PixelDataInfo FromDataset(DicomDataset ds)
    {
        int Req(DicomTag tag) => ds.TryGet<int>(tag, out var v) ? v
            : throw new DicomPixelDataException($"Image Pixel attribute {tag} {DicomDictionary.Lookup(tag)?.Keyword} is missing or not a number.");
        var bitsAllocated = Req(DicomTags.BitsAllocated);
        var info = new PixelDataInfo
        {
            Rows = Req(DicomTags.Rows),
            Columns = Req(DicomTags.Columns),
            NumberOfFrames = ds.TryGet<int>(DicomTags.NumberOfFrames, out var nf) && nf > 0 ? nf : 1,
            SamplesPerPixel = ds.GetOrDefault(DicomTags.SamplesPerPixel, 1),
            BitsAllocated = bitsAllocated,
            BitsStored = ds.GetOrDefault(DicomTags.BitsStored, bitsAllocated),
            HighBit = ds.GetOrDefault(DicomTags.HighBit, ds.GetOrDefault(DicomTags.BitsStored, bitsAllocated) - 1),
            PixelRepresentation = ds.GetOrDefault(DicomTags.PixelRepresentation, 0),
            PlanarConfiguration = ds.GetOrDefault(DicomTags.PlanarConfiguration, 0),
            PhotometricInterpretation = ds.GetString(DicomTags.PhotometricInterpretation) is { Length: > 0 } pi ? pi.Trim().ToUpperInvariant()
                : ds.GetOrDefault(DicomTags.SamplesPerPixel, 1) == 3 ? Imaging.PhotometricInterpretation.Rgb : Imaging.PhotometricInterpretation.Monochrome2,
        };
        info.Validate();
        return info;
    }

    /// <summary>Checks that the description is one this library can lay out in memory.</summary>
    public void Validate()
    {
        if (Rows <= 0 || Columns <= 0) throw new DicomPixelDataException($"Image size {Columns}x{Rows} is invalid.");
        if (SamplesPerPixel is not (1 or 3 or 4)) throw new DicomPixelDataException($"Samples per Pixel {SamplesPerPixel} is not supported.");
        if (BitsAllocated is not (1 or 8 or 16 or 32)) throw new DicomPixelDataException($"Bits Allocated {BitsAllocated} is not supported.");
        if (BitsStored < 1 || BitsStored > BitsAllocated) throw new DicomPixelDataException($"Bits Stored {BitsStored} does not fit Bits Allocated {BitsAllocated}.");
        if (HighBit < BitsStored - 1 || HighBit >= BitsAllocated) throw new DicomPixelDataException($"High Bit {HighBit} is inconsistent with Bits Stored {BitsStored}.");
        if (PixelRepresentation is not (0 or 1)) throw new DicomPixelDataException($"Pixel Representation {PixelRepresentation} is invalid.");
        if (NumberOfFrames < 1) throw new DicomPixelDataException($"Number of Frames {NumberOfFrames} is invalid.");
        if (FrameLength > Array.MaxLength) throw new DicomPixelDataException($"A frame of {FrameLength} bytes is too large.");
    }

    /// <summary>Writes the Image Pixel attributes into <paramref name="ds"/> (Number of Frames only when it is there already or &gt; 1).</summary>
    public void ApplyTo(DicomDataset ds)
    {
        ds.Set<ushort>(DicomTags.SamplesPerPixel, (ushort)SamplesPerPixel);
        ds.Set(DicomTags.PhotometricInterpretation, PhotometricInterpretation);
        ds.Set<ushort>(DicomTags.Rows, (ushort)Rows);
        ds.Set<ushort>(DicomTags.Columns, (ushort)Columns);
        ds.Set<ushort>(DicomTags.BitsAllocated, (ushort)BitsAllocated);
        ds.Set<ushort>(DicomTags.BitsStored, (ushort)BitsStored);
        ds.Set<ushort>(DicomTags.HighBit, (ushort)HighBit);
        ds.Set<ushort>(DicomTags.PixelRepresentation, (ushort)PixelRepresentation);
        if (SamplesPerPixel > 1) ds.Set<ushort>(DicomTags.PlanarConfiguration, (ushort)PlanarConfiguration);
        else ds.Remove(DicomTags.PlanarConfiguration);
        if (NumberOfFrames > 1 || ds.Contains(DicomTags.NumberOfFrames)) ds.Set(DicomTags.NumberOfFrames, NumberOfFrames.ToString(System.Globalization.CultureInfo.InvariantCulture));
    }
}
