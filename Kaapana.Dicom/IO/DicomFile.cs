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

    public static DicomFile Open(string path, DicomReadOptions? options = null)
    {
        using var fs = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.SequentialScan);
        return DicomReader.ReadFile(fs, options, Path.GetFullPath(path));
    }

    public static DicomFile Read(Stream stream, DicomReadOptions? options = null) => DicomReader.ReadFile(stream, options);

    public void Save(string path, DicomWriteOptions? options = null)
    {
        using var fs = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 81920);
        Save(fs, options);
    }

    public void Save(Stream stream, DicomWriteOptions? options = null) => DicomWriter.WriteFile(stream, this, options);
}
