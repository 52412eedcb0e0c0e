using Kaapana.Dicom;
using Kaapana.Tests.Dicom.Conformance;

namespace Kaapana.Tests.Dicom.IO;

public class DicomWriterTests
{
    private static DicomDataset NestedDataset()
    {
        var inner = new DicomDataset().Set(DicomTags.CodeValue, "C1").Set(DicomTags.CodingSchemeDesignator, "DCM");
        var ds = new DicomDataset()
            .Set(DicomTags.SOPClassUID, "1.2.840.10008.5.1.4.1.1.7")
            .Set(DicomTags.SOPInstanceUID, "1.2.3.4.5")
            .Set(DicomTags.PatientName, "Doe^Jane")
            .SetSequence(DicomTags.ReferencedImageSequence)                                   // empty sequence
            .SetSequence(DicomTags.ProcedureCodeSequence, new DicomDataset(), inner.Clone())  // empty item, then a full one
            .SetSequence(DicomTags.ContentSequence,
                new DicomDataset().Set(DicomTags.RelationshipType, "CONTAINS").SetSequence(DicomTags.ConceptNameCodeSequence, inner.Clone()));
        var creator = ds.GetPrivateTag(0x0029, "KAAPANA TEST", 0x01)!.Value;
        ds.SetSequence(creator, inner.Clone()); // a private sequence
        return ds;
    }

    private static List<string> Listing(DicomDataset ds) =>
        DicomDump.Lines(ds).Select(l => l.Tag.IsPrivate && !l.Tag.IsPrivateCreator ? $"{l.Depth} {l.Kind} {l.Tag} {l.Count}" : DicomDump.Format(l)).ToList();

    private static byte[] Write(DicomDataset ds, DicomWriteOptions options)
    {
        var ms = new MemoryStream();
        // Bare data sets here have no SOP UIDs; the file meta information needs them (the writer refuses to leave them empty).
        var meta = new DicomDataset()
            .Set(DicomTags.MediaStorageSOPClassUID, DicomVR.UI, DicomUids.SecondaryCaptureImageStorage)
            .Set(DicomTags.MediaStorageSOPInstanceUID, DicomVR.UI, "1.2.826.0.1.3680043.2.1125.1");
        new DicomFile(meta, ds, DicomTransferSyntax.ExplicitVRLittleEndian).Save(ms, options);
        return ms.ToArray();
    }

    private static int Occurrences(byte[] data, ReadOnlySpan<byte> pattern)
    {
        int n = 0;
        for (int i = data.AsSpan().IndexOf(pattern); i >= 0; i = data.AsSpan(i + 1).IndexOf(pattern) is var j and >= 0 ? i + 1 + j : -1) n++;
        return n;
    }

    public static TheoryData<string, bool, bool> LengthModes()
    {
        var data = new TheoryData<string, bool, bool>();
        foreach (var ts in DicomTransferSyntax.Uncompressed)
            foreach (var seq in new[] { false, true })
                foreach (var items in new[] { false, true })
                    data.Add(ts.Uid, seq, items);
        return data;
    }

    [Theory]
    [MemberData(nameof(LengthModes))]
    public void Defined_and_undefined_sequence_and_item_lengths_round_trip(string uid, bool undefinedSequences, bool undefinedItems)
    {
        var syntax = DicomTransferSyntax.Lookup(uid);
        var ds = NestedDataset();
        var bytes = Write(ds, new DicomWriteOptions { TransferSyntax = syntax, UndefinedLengthSequences = undefinedSequences, UndefinedLengthItems = undefinedItems });
        var back = DicomFile.Read(new MemoryStream(bytes));
        Assert.Equal(Listing(ds), Listing(back.Dataset));

        if (syntax.IsDeflated) return;
        byte[] seqEnd = syntax.IsBigEndian ? [0xFF, 0xFE, 0xE0, 0xDD, 0, 0, 0, 0] : [0xFE, 0xFF, 0xDD, 0xE0, 0, 0, 0, 0];
        byte[] itemEnd = syntax.IsBigEndian ? [0xFF, 0xFE, 0xE0, 0x0D, 0, 0, 0, 0] : [0xFE, 0xFF, 0x0D, 0xE0, 0, 0, 0, 0];
        // 5 sequences and 5 items. In implicit VR the private sequence always has an undefined length (see DicomWriter).
        int privateForced = !syntax.IsExplicitVR && !undefinedSequences ? 1 : 0;
        Assert.Equal(undefinedSequences ? 5 : privateForced, Occurrences(bytes, seqEnd));
        Assert.Equal(undefinedItems ? 5 : 0, Occurrences(bytes, itemEnd));
    }

    [Fact]
    public void A_private_sequence_written_in_implicit_VR_is_recognisable_as_a_sequence_by_dcmtk()
    {
        var path = Path.GetTempFileName();
        try
        {
            new DicomFile(NestedDataset()).Save(path, new DicomWriteOptions { TransferSyntax = DicomTransferSyntax.ImplicitVRLittleEndian });
            var dump = ExternalTools.Run("dcmdump", ["-q", path]);
            Assert.Equal(0, dump.ExitCode);
            Assert.Contains("(0029,1001) SQ (Sequence with undefined length #=1)", dump.Text, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Theory]
    [InlineData("1.2.840.10008.1.2")]
    [InlineData("1.2.840.10008.1.2.1")]
    [InlineData("1.2.840.10008.1.2.2")]
    public void Kept_group_lengths_are_recomputed_for_the_target_encoding(string uid)
    {
        var syntax = DicomTransferSyntax.Lookup(uid);
        var ds = NestedDataset();
        ds.SetBytes(new DicomTag(0x0008, 0x0000), DicomVR.UL, BitConverter.GetBytes(12345u)); // stale value
        ds.SetBytes(new DicomTag(0x0010, 0x0000), DicomVR.UL, BitConverter.GetBytes(1u));
        var options = new DicomWriteOptions { TransferSyntax = syntax, KeepGroupLengths = true };
        var back = DicomFile.Read(new MemoryStream(Write(ds, options))).Dataset;
        foreach (ushort group in new ushort[] { 0x0008, 0x0010 })
        {
            var only = new DicomDataset(ds.Where(e => e.Tag.Group == group && !e.Tag.IsGroupLength));
            var ms = new MemoryStream();
            DicomWriter.WriteDataset(ms, only, syntax, options);
            Assert.Equal((uint)ms.Length, back.Get<uint>(new DicomTag(group, 0x0000)));
        }
        Assert.False(DicomFile.Read(new MemoryStream(Write(ds, options with { KeepGroupLengths = false }))).Dataset.Contains(new DicomTag(0x0008, 0x0000)));
    }

    [Fact]
    public void Odd_length_values_are_padded_to_even_length()
    {
        var ds = new DicomDataset()
            .SetBytes(DicomTags.PatientName, DicomVR.PN, "ABC"u8.ToArray())
            .SetBytes(DicomTags.SOPInstanceUID, DicomVR.UI, "1.2.3"u8.ToArray())
            .SetBytes(new DicomTag(0x0009, 0x1001), DicomVR.OB, new byte[] { 1, 2, 3 });
        ds.Set(new DicomTag(0x0009, 0x0010), DicomVR.LO, "X");
        var back = DicomFile.Read(new MemoryStream(Write(ds, new DicomWriteOptions()))).Dataset;
        Assert.Equal("ABC "u8.ToArray(), ((DicomValueElement)back[DicomTags.PatientName]).Span.ToArray());
        Assert.Equal("1.2.3\0"u8.ToArray(), ((DicomValueElement)back[DicomTags.SOPInstanceUID]).Span.ToArray());
        Assert.Equal(new byte[] { 1, 2, 3, 0 }, ((DicomValueElement)back[new DicomTag(0x0009, 0x1001)]).Span.ToArray());
    }

    [Fact]
    public void Big_endian_output_swaps_each_binary_value_by_its_own_size()
    {
        var ds = new DicomDataset()
            .Set(DicomTags.Rows, (ushort)0x0102)
            .Set(DicomTags.SmallestImagePixelValue, DicomVR.SS, (short)-2)
            .Set(DicomTags.SimpleFrameList, 0x01020304u)
            .Set(DicomTags.RecommendedDisplayFrameRateInFloat, 1.5f)
            .Set(DicomTags.PixelSpacingCalibrationType, "GEOMETRY")
            .Set(DicomTags.FrameIncrementPointer, DicomTags.FrameTime)
            .SetBytes(DicomTags.PixelData, DicomVR.OW, new byte[] { 1, 2, 3, 4 });
        var bytes = Write(ds, new DicomWriteOptions { TransferSyntax = DicomTransferSyntax.ExplicitVRBigEndian });
        var data = bytes.AsSpan();
        Assert.True(data.IndexOf((byte[])[0x00, 0x28, 0x00, 0x10, (byte)'U', (byte)'S', 0x00, 0x02, 0x01, 0x02]) > 0);           // US
        Assert.True(data.IndexOf((byte[])[0x00, 0x28, 0x00, 0x09, (byte)'A', (byte)'T', 0x00, 0x04, 0x00, 0x18, 0x10, 0x63]) > 0); // AT: two 16-bit halves
        Assert.True(data.IndexOf((byte[])[0x7F, 0xE0, 0x00, 0x10, (byte)'O', (byte)'W', 0, 0, 0, 0, 0, 4, 2, 1, 4, 3]) > 0);     // OW words
        var back = DicomFile.Read(new MemoryStream(bytes));
        Assert.Equal(DicomDump.ToText(ds), DicomDump.ToText(back.Dataset));
    }

    [Fact]
    public void A_value_where_the_dictionary_expects_a_sequence_cannot_be_written_in_implicit_VR()
    {
        var ds = new DicomDataset().SetBytes(DicomTags.ReferencedImageSequence, DicomVR.UN, new byte[] { 1, 2, 3, 4 });
        Assert.Throws<DicomException>(() => Write(ds, new DicomWriteOptions { TransferSyntax = DicomTransferSyntax.ImplicitVRLittleEndian }));
        var back = DicomFile.Read(new MemoryStream(Write(ds, new DicomWriteOptions())));
        Assert.Equal(DicomVR.UN, back.Dataset[DicomTags.ReferencedImageSequence].VR); // explicit VR keeps it as it is
    }

    [Fact]
    public void A_text_value_too_long_for_a_16_bit_length_travels_as_UN_in_explicit_VR()
    {
        var text = new string('A', 70_000);
        var ds = new DicomDataset().Set(DicomTags.StudyDescription, DicomVR.LO, text);
        var back = DicomFile.Read(new MemoryStream(Write(ds, new DicomWriteOptions()))).Dataset;
        Assert.Equal(DicomVR.UN, back[DicomTags.StudyDescription].VR);
        Assert.Equal(70_000, ((DicomValueElement)back[DicomTags.StudyDescription]).Length);
    }

    [Fact]
    public void Meta_information_is_completed_and_its_group_length_is_exact()
    {
        var bytes = Write(NestedDataset(), new DicomWriteOptions { TransferSyntax = DicomTransferSyntax.DeflatedExplicitVRLittleEndian });
        var file = DicomFile.Read(new MemoryStream(bytes));
        var meta = file.FileMetaInfo;
        Assert.Equal(DicomTransferSyntax.DeflatedExplicitVRLittleEndian.Uid, meta.GetString(DicomTags.TransferSyntaxUID));
        Assert.Equal("1.2.840.10008.5.1.4.1.1.7", meta.GetString(DicomTags.MediaStorageSOPClassUID));
        Assert.Equal("1.2.3.4.5", meta.GetString(DicomTags.MediaStorageSOPInstanceUID));
        Assert.Equal(DicomImplementation.ClassUid, meta.GetString(DicomTags.ImplementationClassUID));
        uint groupLength = meta.Get<uint>(new DicomTag(0x0002, 0x0000));
        // After preamble, DICM and the 12-byte group length element, the meta group is followed directly by the raw deflate data.
        var afterMeta = bytes.AsSpan(132 + 12 + (int)groupLength);
        using var z = new System.IO.Compression.DeflateStream(new MemoryStream(afterMeta.ToArray()), System.IO.Compression.CompressionMode.Decompress);
        var first = new byte[4];
        z.ReadExactly(first);
        Assert.Equal(new byte[] { 0x08, 0x00, 0x16, 0x00 }, first); // (0008,0016) SOP Class UID
    }

    [Fact]
    public void Compressed_pixel_data_is_not_silently_decoded_or_relabelled()
    {
        var file = DicomFile.Open(ExternalTools.FullPath("test_files/JPEG2000.dcm"));
        Assert.Throws<DicomException>(() => file.Save(new MemoryStream(), new DicomWriteOptions { TransferSyntax = DicomTransferSyntax.ExplicitVRLittleEndian }));
        Assert.Throws<DicomException>(() => file.Save(new MemoryStream(), new DicomWriteOptions { TransferSyntax = DicomTransferSyntax.RLELossless }));
        var same = new MemoryStream();
        file.Save(same);
        Assert.Equal(
            ((DicomFragmentSequence)file.Dataset[DicomTags.PixelData]).Fragments.Select(f => f.Memory.ToArray()),
            ((DicomFragmentSequence)DicomFile.Read(new MemoryStream(same.ToArray())).Dataset[DicomTags.PixelData]).Fragments.Select(f => f.Memory.ToArray()));
    }

    [Fact]
    public void Native_pixel_data_is_not_written_under_an_encapsulated_syntax()
    {
        var ds = NestedDataset().SetBytes(DicomTags.PixelData, DicomVR.OW, new byte[4]);
        Assert.Throws<DicomException>(() => new DicomFile(ds, DicomTransferSyntax.JPEG2000Lossless).Save(new MemoryStream()));
    }

    [Fact]
    public void Group_lengths_are_dropped_and_file_meta_in_the_data_set_is_not_duplicated()
    {
        var ds = NestedDataset();
        ds.SetBytes(new DicomTag(0x0008, 0x0000), DicomVR.UL, BitConverter.GetBytes(4u));
        ds.Set(DicomTags.TransferSyntaxUID, DicomVR.UI, "1.2.3"); // group 0002 does not belong in a data set
        var back = DicomFile.Read(new MemoryStream(Write(ds, new DicomWriteOptions())));
        Assert.False(back.Dataset.Contains(new DicomTag(0x0008, 0x0000)));
        Assert.False(back.Dataset.Contains(DicomTags.TransferSyntaxUID));
        Assert.Equal(DicomTransferSyntax.ExplicitVRLittleEndian.Uid, back.FileMetaInfo.GetString(DicomTags.TransferSyntaxUID));
        Assert.Equal(new byte[] { 0, 1 }, ((DicomValueElement)back.FileMetaInfo[DicomTags.FileMetaInformationVersion]).Span.ToArray());
    }

    [Fact]
    public void Saving_over_the_file_that_lazy_values_come_from_is_refused_and_a_failed_save_leaves_nothing()
    {
        var dir = Path.Combine(Path.GetTempPath(), $"kaapana-save-{Guid.NewGuid():N}");
        Directory.CreateDirectory(dir);
        try
        {
            var path = Path.Combine(dir, "mr.dcm");
            File.Copy(ExternalTools.FullPath("test_files/MR_small.dcm"), path);
            var original = File.ReadAllBytes(path);
            var lazy = DicomFile.Open(path, new DicomReadOptions { LargeValueThreshold = 1024 });
            Assert.Throws<DicomException>(() => lazy.Save(path, new DicomWriteOptions { TransferSyntax = DicomTransferSyntax.ImplicitVRLittleEndian }));
            Assert.Equal(original, File.ReadAllBytes(path));

            // Read fully, the same file can be replaced.
            var eager = DicomFile.Open(path, new DicomReadOptions { LargeValueThreshold = null });
            eager.Save(path, new DicomWriteOptions { TransferSyntax = DicomTransferSyntax.ImplicitVRLittleEndian });
            Assert.Equal(DicomTransferSyntax.ImplicitVRLittleEndian.Uid, DicomFile.Open(path).TransferSyntax.Uid);

            // A write that fails (compressed pixel data to an uncompressed syntax) creates no file.
            var target = Path.Combine(dir, "out.dcm");
            Assert.Throws<DicomException>(() => DicomFile.Open(ExternalTools.FullPath("test_files/JPEG2000.dcm"))
                .Save(target, new DicomWriteOptions { TransferSyntax = DicomTransferSyntax.ExplicitVRLittleEndian }));
            Assert.Equal(["mr.dcm"], Directory.GetFiles(dir).Select(Path.GetFileName));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
