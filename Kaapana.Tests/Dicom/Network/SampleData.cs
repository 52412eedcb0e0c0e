using Kaapana.Dicom;
using Kaapana.Dicom.Network;

namespace Kaapana.Tests.Dicom.Network;

/// <summary>
/// The pydicom sample files (Debian python3-pydicom) grouped by the storescu flag that sends each as it is, and the files
/// DCMTK's storescu cannot send (each with the reason, checked by hand). Every file of test_files is in exactly one group,
/// so none is silently left out.
/// </summary>
public static class SampleData
{
    public const string TestFiles = "/usr/lib/python3/dist-packages/pydicom/data/test_files";

    public static string RequireTestFiles() => Directory.Exists(TestFiles)
        ? TestFiles
        : throw new InvalidOperationException($"{TestFiles} is missing: install the Debian package python3-pydicom (apt-get install python3-pydicom).");

    /// <summary>Files storescu 3.6.7 refuses or cannot read, by name.</summary>
    public static readonly IReadOnlyDictionary<string, string> NotSendable = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["ExplVR_BigEndNoMeta.dcm"] = "no file meta information",
        ["ExplVR_LitEndNoMeta.dcm"] = "no file meta information",
        ["no_meta.dcm"] = "no file meta information (and a stray leading byte)",
        ["MR_truncated.dcm"] = "truncated pixel data",
        ["rtplan_truncated.dcm"] = "truncated",
        ["SC_rgb_jpeg.dcm"] = "meta says JPEG baseline but the data set is implicit VR: storescu cannot parse it",
        ["UN_sequence.dcm"] = "no SOP Class/Instance UID",
        ["empty_charset_LEI.dcm"] = "no SOP Class/Instance UID",
        ["nested_priv_SQ.dcm"] = "no SOP Class/Instance UID",
        ["priv_SQ.dcm"] = "no SOP Class/Instance UID",
        ["no_meta_group_length.dcm"] = "no SOP Class/Instance UID",
        ["meta_missing_tsyntax.dcm"] = "no transfer syntax in the meta information",
        ["rtdose_rle.dcm"] = "no SOP Class/Instance UID",
        ["rtdose_rle_1frame.dcm"] = "no SOP Class/Instance UID",
        ["liver_1frame.dcm"] = "Segmentation Storage is not among the SOP classes storescu proposes",
        ["liver_expb_1frame.dcm"] = "Segmentation Storage is not among the SOP classes storescu proposes",
        ["rtstruct.dcm"] = "not a DICOM file (text)",
        ["README.txt"] = "not DICOM",
        ["rtplan.dump"] = "not DICOM",
        ["rtstruct.dump"] = "not DICOM",
        ["test1.json"] = "not DICOM",
        ["test_PN.json"] = "not DICOM",
        ["zipMR.gz"] = "not DICOM",
    };

    /// <summary>storescu flag that proposes a file's own (compressed) syntax; null for uncompressed syntaxes.</summary>
    public static string? CompressedFlag(string transferSyntaxUid) => transferSyntaxUid switch
    {
        "1.2.840.10008.1.2.5" => "-xr",
        "1.2.840.10008.1.2.4.70" => "-xs",
        "1.2.840.10008.1.2.4.50" => "-xy",
        "1.2.840.10008.1.2.4.51" => "-xx",
        "1.2.840.10008.1.2.4.90" => "-xv",
        "1.2.840.10008.1.2.4.91" => "-xw",
        "1.2.840.10008.1.2.4.80" => "-xt",
        "1.2.840.10008.1.2.4.81" => "-xu",
        _ => null,
    };

    public sealed record Sample(string Path, string SopClassUid, string SopInstanceUid, DicomTransferSyntax Syntax)
    {
        public string Name => System.IO.Path.GetFileName(Path);
        public override string ToString() => Name;
    }

    private static readonly Lazy<IReadOnlyList<Sample>> s_sendable = new(() =>
    {
        var dir = RequireTestFiles();
        var result = new List<Sample>();
        foreach (var path in Directory.GetFiles(dir).Order(StringComparer.Ordinal))
        {
            var name = System.IO.Path.GetFileName(path);
            if (NotSendable.ContainsKey(name)) continue;
            using var fs = File.OpenRead(path);
            var h = DicomFileMeta.TryReadHeaderAsync(fs, CancellationToken.None).GetAwaiter().GetResult()
                ?? throw new InvalidOperationException($"{name}: no usable meta header, yet not listed in NotSendable.");
            // The data set's UIDs (what a sender puts in the command); a few files' meta headers disagree with them.
            var ds = DicomFile.Open(path, new DicomReadOptions { StopBeforePixelData = true }).Dataset;
            result.Add(new Sample(path, ds.GetString(DicomTags.SOPClassUID), ds.GetString(DicomTags.SOPInstanceUID), h.TransferSyntax));
        }
        return result;
    });

    /// <summary>Every sample storescu can send.</summary>
    public static IReadOnlyList<Sample> Sendable => s_sendable.Value;

    public static IReadOnlyList<Sample> Uncompressed => Sendable.Where(s => !s.Syntax.IsEncapsulated).ToList();

    public static IReadOnlyList<Sample> CompressedFor(string flag) => Sendable.Where(s => CompressedFlag(s.Syntax.Uid) == flag).ToList();

    /// <summary>dcmconv flag writing a file in <paramref name="uid"/> (uncompressed syntaxes), or null to keep its syntax.</summary>
    public static string? DcmconvFlag(string uid) => uid switch
    {
        "1.2.840.10008.1.2" => "+ti",
        "1.2.840.10008.1.2.1" => "+te",
        "1.2.840.10008.1.2.2" => "+tb",
        "1.2.840.10008.1.2.1.99" => "+td",
        _ => null,
    };

    /// <summary>
    /// Asserts that <paramref name="received"/> holds the data set a DCMTK sender puts on the wire for <paramref name="original"/>
    /// in the received file's transfer syntax: dcmdump (all values in full, meta header left out) of the received file equals
    /// dcmdump of the original re-encoded by dcmconv into that syntax (DCMTK's sender re-encodes the same way, e.g. dropping
    /// trailing padding). A file sent in its own syntax is compared the same way, through dcmconv +t=. One difference is
    /// expected: storescu leaves out Data Set Trailing Padding (FFFC,FFFC), which dcmconv keeps; PS3.10 gives it meaning only
    /// inside files, so it is removed from both listings.
    /// </summary>
    public static Task AssertSameDatasetAsync(string original, string received, string workDir) =>
        AssertSameDatasetsAsync([(original, received)], workDir);

    /// <summary>The same for many pairs: conversions run in parallel, and dcmdump runs once per side.</summary>
    public static async Task AssertSameDatasetsAsync(IReadOnlyList<(string Original, string Received)> pairs, string workDir)
    {
        var references = new string[pairs.Count];
        using var gate = new SemaphoreSlim(4);
        await Task.WhenAll(pairs.Select(async (pair, i) =>
        {
            await using var fs = File.OpenRead(pair.Received);
            var ts = (await DicomFileMeta.TryReadHeaderAsync(fs, CancellationToken.None))?.TransferSyntax.Uid
                ?? throw new Xunit.Sdk.XunitException($"{pair.Received} has no readable meta header");
            references[i] = System.IO.Path.Combine(workDir, $"ref-{Guid.NewGuid():N}.dcm");
            await gate.WaitAsync();
            try
            {
                var conv = await Dcmtk.RunAsync("dcmconv", [DcmconvFlag(ts) ?? "+t=", pair.Original, references[i]]);
                Assert.True(conv.ExitCode == 0, $"dcmconv {pair.Original} failed: {conv.Output}");
            }
            finally
            {
                gate.Release();
            }
        }));
        var expected = await Dcmtk.DumpDatasetsAsync(references);
        var actual = await Dcmtk.DumpDatasetsAsync(pairs.Select(p => p.Received).ToList());
        foreach (var r in references) File.Delete(r);
        for (int k = 0; k < pairs.Count; k++)
        {
            var e = DropTrailingPadding(expected[k]).Split('\n');
            var a = DropTrailingPadding(actual[k]).Split('\n');
            if (e.SequenceEqual(a)) continue;
            int i = 0;
            while (i < Math.Min(e.Length, a.Length) && e[i] == a[i]) i++;
            Assert.Fail($"{System.IO.Path.GetFileName(pairs[k].Original)} -> {pairs[k].Received}: data sets differ at line {i + 1}:\n expected: {(i < e.Length ? e[i] : "<end>")}\n actual:   {(i < a.Length ? a[i] : "<end>")}");
        }
    }

    private static string DropTrailingPadding(string dump) =>
        string.Join('\n', dump.Split('\n').Where(l => !l.StartsWith("(fffc,fffc)", StringComparison.Ordinal)));

    /// <summary>A synthetic CT series made with our own API: <paramref name="count"/> instances of <paramref name="size"/>² 12-bit pixels.</summary>
    public static List<string> WriteSyntheticCtSeries(string dir, int count, int size = 128)
    {
        Directory.CreateDirectory(dir);
        var study = NewUid();
        var series = NewUid();
        var paths = new List<string>();
        for (int i = 0; i < count; i++)
        {
            var ds = new DicomDataset();
            ds.Set(DicomTags.SpecificCharacterSet, "ISO_IR 100");
            ds.Set(DicomTags.ImageType, "ORIGINAL", "PRIMARY", "AXIAL");
            ds.Set(DicomTags.SOPClassUID, DicomUids.CTImageStorage);
            ds.Set(DicomTags.SOPInstanceUID, NewUid());
            ds.Set(DicomTags.StudyDate, "20240102");
            ds.Set(DicomTags.StudyTime, "101500");
            ds.Set(DicomTags.Modality, "CT");
            ds.Set(DicomTags.Manufacturer, "Kaapana test");
            ds.Set(DicomTags.PatientName, "Müller^Jürgen");
            ds.Set(DicomTags.PatientID, "NET-TEST-1");
            ds.Set(DicomTags.PatientBirthDate, "19700101");
            ds.Set(DicomTags.PatientSex, "M");
            ds.Set(DicomTags.SliceThickness, "1.25");
            ds.Set(DicomTags.StudyInstanceUID, study);
            ds.Set(DicomTags.SeriesInstanceUID, series);
            ds.Set(DicomTags.StudyID, "1");
            ds.Set(DicomTags.SeriesNumber, "2");
            ds.Set(DicomTags.InstanceNumber, (i + 1).ToString());
            ds.Set(DicomTags.ImagePositionPatient, "-100", "-100", (i * 1.25).ToString(System.Globalization.CultureInfo.InvariantCulture));
            ds.Set(DicomTags.ImageOrientationPatient, "1", "0", "0", "0", "1", "0");
            ds.Set<ushort>(DicomTags.SamplesPerPixel, 1);
            ds.Set(DicomTags.PhotometricInterpretation, "MONOCHROME2");
            ds.Set<ushort>(DicomTags.Rows, (ushort)size);
            ds.Set<ushort>(DicomTags.Columns, (ushort)size);
            ds.Set(DicomTags.PixelSpacing, "0.7", "0.7");
            ds.Set<ushort>(DicomTags.BitsAllocated, 16);
            ds.Set<ushort>(DicomTags.BitsStored, 12);
            ds.Set<ushort>(DicomTags.HighBit, 11);
            ds.Set<ushort>(DicomTags.PixelRepresentation, DicomVR.US, 0);
            ds.Set(DicomTags.RescaleIntercept, "-1024");
            ds.Set(DicomTags.RescaleSlope, "1");
            var pixels = new byte[size * size * 2];
            for (int p = 0; p < size * size; p++)
            {
                var v = (ushort)(((p % size) * 7 + (p / size) * 3 + i * 11) & 0x0FFF);
                pixels[2 * p] = (byte)v;
                pixels[2 * p + 1] = (byte)(v >> 8);
            }
            ds.SetBytes(DicomTags.PixelData, DicomVR.OW, pixels);
            var path = System.IO.Path.Combine(dir, $"ct{i:D4}.dcm");
            new DicomFile(ds).Save(path);
            paths.Add(path);
        }
        return paths;
    }

    public static string NewUid() => "2.25." + new System.Numerics.BigInteger(Guid.NewGuid().ToByteArray(), isUnsigned: true);
}
