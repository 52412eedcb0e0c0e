namespace Kaapana.Dicom;

/// <summary>A Part 10 file: preamble, file meta information (group 0002) and the data set.</summary>
public sealed class DicomFile
{
    public DicomFile(DicomDataset fileMetaInfo, DicomDataset dataset, DicomTransferSyntax transferSyntax, byte[]? preamble = null, bool isPartial = false)
    {
        FileMetaInfo = fileMetaInfo;
        Dataset = dataset;
        TransferSyntax = transferSyntax;
        Preamble = preamble;
        IsPartial = isPartial;
    }

    /// <summary>A new file for a data set; meta information is completed when written.</summary>
    public DicomFile(DicomDataset dataset, DicomTransferSyntax? transferSyntax = null)
        : this(new DicomDataset(), dataset, transferSyntax ?? DicomTransferSyntax.ExplicitVRLittleEndian) { }

    public DicomDataset FileMetaInfo { get; }
    public DicomDataset Dataset { get; }

    /// <summary>The syntax the data set was (or will be) encoded in.</summary>
    public DicomTransferSyntax TransferSyntax { get; set; }

    /// <summary>The 128-byte preamble, or null when the input had none.</summary>
    public byte[]? Preamble { get; }

    /// <summary>True when reading stopped early (e.g. before pixel data); such a file must not be written back as if complete.</summary>
    public bool IsPartial { get; }

    /// <summary>Irregularities the reader tolerated (e.g. a sequence length running past the end of the file).</summary>
    public IReadOnlyList<string> Warnings { get; init; } = [];

    public static DicomFile Open(string path, DicomReadOptions? options = null)
    {
        using var fs = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.SequentialScan);
        return DicomReader.ReadFile(fs, options, Path.GetFullPath(path));
    }

    public static DicomFile Read(Stream stream, DicomReadOptions? options = null) => DicomReader.ReadFile(stream, options);

    /// <summary>
    /// Writes the file next to <paramref name="path"/> and then moves it into place, so a failed write leaves no truncated
    /// file behind. Saving over the file that values are still read from (see <see cref="DicomReadOptions.LargeValueThreshold"/>)
    /// is refused: those values would afterwards be read from the new file at their old offsets.
    /// </summary>
    public void Save(string path, DicomWriteOptions? options = null)
    {
        var full = Path.GetFullPath(path);
        if (ReadsFrom(Dataset, full))
            throw new DicomException($"Values of this data set are still read from {full}; save to another path, or read the file with LargeValueThreshold = null.");
        var temp = Path.Combine(Path.GetDirectoryName(full) ?? ".", $".{Path.GetFileName(full)}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var fs = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 81920))
                Save(fs, options);
            File.Move(temp, full, overwrite: true);
        }
        finally
        {
            File.Delete(temp); // nothing left to delete once moved
        }
    }

    private static bool ReadsFrom(DicomDataset ds, string path) => ds.Any(e => e switch
    {
        DicomValueElement { Buffer: FileRangeBuffer b } => PathsEqual(b.Path, path),
        DicomFragmentSequence f => f.Fragments.Prepend(f.OffsetTable).Any(b => b is FileRangeBuffer r && PathsEqual(r.Path, path)),
        DicomSequence sq => sq.Items.Any(i => ReadsFrom(i, path)),
        _ => false,
    });

    private static bool PathsEqual(string a, string b) =>
        string.Equals(Path.GetFullPath(a), b, OperatingSystem.IsWindows() ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal);

    public void Save(Stream stream, DicomWriteOptions? options = null) => DicomWriter.WriteFile(stream, this, options);
}
