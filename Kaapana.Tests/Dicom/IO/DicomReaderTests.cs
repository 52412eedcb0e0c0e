using System.Buffers.Binary;
using Kaapana.Dicom;
using Kaapana.Tests.Dicom.Conformance;
using Kaapana.Tests.Dicom.Fuzz;

namespace Kaapana.Tests.Dicom.IO;

public class DicomReaderTests
{
    private static string Sample(string name) => ExternalTools.FullPath("test_files/" + name);

    private static byte[] PixelBytes(DicomFile f) => ((DicomValueElement)f.Dataset[DicomTags.PixelData]).Buffer.Memory.ToArray();

    // ---- StopBeforePixelData ----

    [Fact]
    public void StopBeforePixelData_reads_the_header_marks_the_file_partial_and_Save_refuses_it()
    {
        var options = new DicomReadOptions { StopBeforePixelData = true };
        var full = DicomFile.Open(Sample("CT_small.dcm"));
        var partial = DicomFile.Open(Sample("CT_small.dcm"), options);
        Assert.True(partial.IsPartial);
        Assert.False(full.IsPartial);
        Assert.False(partial.Dataset.Contains(DicomTags.PixelData));
        Assert.Equal(full.Dataset.Count(e => e.Tag < DicomTags.FloatPixelData), partial.Dataset.Count());
        Assert.Equal(full.Dataset.GetString(DicomTags.PatientName), partial.Dataset.GetString(DicomTags.PatientName));
        Assert.Throws<DicomException>(() => partial.Save(new MemoryStream()));

        // The same from a stream that cannot seek (e.g. a network stream): it stops without reading the pixel data.
        using var ns = new NonSeekableStream(File.OpenRead(Sample("CT_small.dcm")));
        var fromStream = DicomFile.Read(ns, options);
        Assert.True(fromStream.IsPartial);
        Assert.Equal(partial.Dataset.Count(), fromStream.Dataset.Count());
    }

    [Fact]
    public void StopBeforePixelData_also_stops_at_float_pixel_data_and_not_inside_sequences()
    {
        var ds = new RawDicom();
        ds.US(DicomTags.Rows, 1)
            .Header(DicomTags.IconImageSequence, DicomVR.SQ, 0xFFFFFFFF).Item()
            .Element(DicomTags.PixelData, DicomVR.OB, [1, 2]) // nested pixel data (icon) is part of the header
            .ItemEnd().SequenceEnd()
            .Element(DicomTags.FloatPixelData, DicomVR.OF, new byte[8]);
        var bytes = RawDicom.Part10(DicomTransferSyntax.ExplicitVRLittleEndian.Uid, ds.ToArray());
        var file = DicomFile.Read(new MemoryStream(bytes), new DicomReadOptions { StopBeforePixelData = true });
        Assert.True(file.IsPartial);
        Assert.False(file.Dataset.Contains(DicomTags.FloatPixelData));
        Assert.True(file.Dataset.GetSequence(DicomTags.IconImageSequence).Items[0].Contains(DicomTags.PixelData));
        Assert.False(DicomFile.Read(new MemoryStream(bytes)).IsPartial);
    }

    // ---- LargeValueThreshold ----

    [Theory]
    [InlineData("MR_small.dcm")]
    [InlineData("MR_small_bigendian.dcm")]   // lazily read values are byte-swapped on access
    [InlineData("MR_small_implicit.dcm")]
    public void Large_values_stay_in_the_file_and_read_back_identical(string name)
    {
        var eager = DicomFile.Open(Sample(name), new DicomReadOptions { LargeValueThreshold = null });
        var lazy = DicomFile.Open(Sample(name), new DicomReadOptions { LargeValueThreshold = 1024 });
        var lazyPixels = ((DicomValueElement)lazy.Dataset[DicomTags.PixelData]).Buffer;
        Assert.IsType<FileRangeBuffer>(lazyPixels);
        Assert.False(lazyPixels.IsInMemory);
        Assert.True(((DicomValueElement)eager.Dataset[DicomTags.PixelData]).Buffer.IsInMemory);
        Assert.Equal(PixelBytes(eager), lazyPixels.Memory.ToArray());

        // Writing streams the value from the file: the output equals the output of the eager copy.
        var a = new MemoryStream();
        var b = new MemoryStream();
        eager.Save(a);
        lazy.Save(b);
        Assert.Equal(a.ToArray(), b.ToArray());
    }

    [Fact]
    public void Big_endian_and_little_endian_versions_of_a_file_read_to_the_same_values()
    {
        var le = DicomFile.Open(Sample("MR_small.dcm"));
        var be = DicomFile.Open(Sample("MR_small_bigendian.dcm"));
        Assert.Equal(DicomTransferSyntax.ExplicitVRBigEndian, be.TransferSyntax);
        Assert.Equal(PixelBytes(le), PixelBytes(be));
        foreach (var tag in new[] { DicomTags.Rows, DicomTags.Columns, DicomTags.BitsAllocated, DicomTags.LargestImagePixelValue })
            Assert.Equal(le.Dataset.Get<int>(tag), be.Dataset.Get<int>(tag));
        Assert.Equal(le.Dataset.GetString(DicomTags.ImagePositionPatient), be.Dataset.GetString(DicomTags.ImagePositionPatient));
    }

    [Fact]
    public void Fragments_of_encapsulated_pixel_data_can_stay_in_the_file()
    {
        var eager = DicomFile.Open(Sample("JPEG2000.dcm"), new DicomReadOptions { LargeValueThreshold = null });
        var lazy = DicomFile.Open(Sample("JPEG2000.dcm"), new DicomReadOptions { LargeValueThreshold = 16 });
        var e = (DicomFragmentSequence)eager.Dataset[DicomTags.PixelData];
        var l = (DicomFragmentSequence)lazy.Dataset[DicomTags.PixelData];
        Assert.All(l.Fragments, f => Assert.False(f.IsInMemory));
        Assert.Equal(e.Fragments.Select(f => f.Memory.ToArray()), l.Fragments.Select(f => f.Memory.ToArray()));
    }

    // ---- absurd lengths ----

    public static TheoryData<uint, bool> HugeLengths => new()
    {
        { 0xFFFFFFF0, true }, { 0xFFFFFFF0, false }, // 4 GB
        { 0x7FFFFFF0, true }, { 0x7FFFFFF0, false }, // just over the largest array
        { 0x7F000000, true }, { 0x7F000000, false }, // 2 GB that an array could hold
    };

    [Theory]
    [MemberData(nameof(HugeLengths))]
    public void A_huge_declared_length_in_a_tiny_file_fails_fast_without_allocating_it(uint length, bool seekable)
    {
        var ds = new RawDicom().Text(DicomTags.PatientID, DicomVR.LO, "P1").Header(new DicomTag(0x0009, 0x1010), DicomVR.OB, length).Bytes(new byte[10]);
        var bytes = RawDicom.Part10(DicomTransferSyntax.ExplicitVRLittleEndian.Uid, ds.ToArray());
        long before = GC.GetAllocatedBytesForCurrentThread();
        Stream input = new MemoryStream(bytes);
        if (!seekable) input = new NonSeekableStream(input);
        var ex = Assert.Throws<DicomFormatException>(() => DicomFile.Read(input));
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.True(allocated < 4 << 20, $"allocated {allocated:N0} bytes");
        Assert.Equal(new DicomTag(0x0009, 0x1010), ex.Tag);
    }

    [Fact]
    public void A_huge_length_in_a_file_opened_by_path_with_lazy_values_is_rejected_too()
    {
        var ds = new RawDicom().Header(new DicomTag(0x0009, 0x1010), DicomVR.OB, 0xFFFFFFF0).Bytes(new byte[10]);
        var path = Path.GetTempFileName();
        try
        {
            File.WriteAllBytes(path, RawDicom.Part10(DicomTransferSyntax.ExplicitVRLittleEndian.Uid, ds.ToArray()));
            Assert.Throws<DicomFormatException>(() => DicomFile.Open(path, new DicomReadOptions { LargeValueThreshold = 4 }));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void A_huge_length_inside_a_deflated_data_set_is_bounded_by_the_data_that_arrives()
    {
        var ds = new RawDicom().Header(new DicomTag(0x0009, 0x1010), DicomVR.OB, 0x7F000000).Bytes(new byte[10]);
        var deflated = new MemoryStream();
        using (var z = new System.IO.Compression.DeflateStream(deflated, System.IO.Compression.CompressionLevel.Fastest, leaveOpen: true))
            z.Write(ds.ToArray());
        var bytes = RawDicom.Part10(DicomTransferSyntax.DeflatedExplicitVRLittleEndian.Uid, deflated.ToArray());
        long before = GC.GetAllocatedBytesForCurrentThread();
        Assert.Throws<DicomFormatException>(() => DicomFile.Read(new MemoryStream(bytes)));
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 8 << 20);
    }

    // ---- data sets without preamble or meta information ----

    [Theory]
    [InlineData("ExplVR_LitEndNoMeta.dcm", "1.2.840.10008.1.2.1")]
    [InlineData("ExplVR_BigEndNoMeta.dcm", "1.2.840.10008.1.2.2")]
    public void A_bare_data_set_is_recognised_by_its_first_element(string name, string expectedSyntax)
    {
        var file = DicomFile.Open(Sample(name));
        Assert.Null(file.Preamble);
        Assert.Equal(0, file.FileMetaInfo.Count);
        Assert.Equal(expectedSyntax, file.TransferSyntax.Uid);
        Assert.Equal("ISO_IR 100", file.Dataset.GetString(DicomTags.SpecificCharacterSet));
    }

    [Theory]
    [InlineData("1.2.840.10008.1.2")]
    [InlineData("1.2.840.10008.1.2.1")]
    [InlineData("1.2.840.10008.1.2.2")]
    [InlineData("1.2.840.10008.1.2.1.99")]
    public void A_data_set_written_bare_reads_back_with_ReadDataset(string uid)
    {
        var syntax = DicomTransferSyntax.Lookup(uid);
        var ds = DicomFile.Open(Sample("rtplan.dcm")).Dataset;
        var ms = new MemoryStream();
        DicomWriter.WriteDataset(ms, ds, syntax);
        ms.Position = 0;
        var back = DicomReader.ReadDataset(ms, syntax);
        Assert.Equal(DicomDump.Lines(ds).Select(Comparable), DicomDump.Lines(back).Select(Comparable));
        if (!syntax.IsDeflated)
        {
            // Without meta information the reader guesses the encoding from the first element.
            ms.Position = 0;
            var guessed = DicomFile.Read(ms);
            Assert.Equal(syntax.Uid, guessed.TransferSyntax.Uid);
            Assert.Null(guessed.Preamble);
        }
    }

    /// <summary>A listing line without the VR of private elements, which implicit VR cannot carry.</summary>
    private static string Comparable(DicomDumpLine l) =>
        l.Tag.IsPrivate && !l.Tag.IsPrivateCreator ? $"{l.Depth} {l.Tag} {l.Length}" : DicomDump.Format(l with { IsMeta = false });

    // ---- deflate ----

    [Fact]
    public void Deflated_files_read_from_files_and_from_non_seekable_streams()
    {
        var file = DicomFile.Open(Sample("image_dfl.dcm"));
        Assert.Equal(DicomTransferSyntax.DeflatedExplicitVRLittleEndian, file.TransferSyntax);
        Assert.True(PixelBytes(file).Length > 4000); // more than the compressed file holds
        using var ns = new NonSeekableStream(File.OpenRead(Sample("image_dfl.dcm")));
        var streamed = DicomFile.Read(ns);
        Assert.Equal(PixelBytes(file), PixelBytes(streamed));
        Assert.Equal(DicomDump.ToText(file), DicomDump.ToText(streamed));
    }

    // ---- undefined-length UN ----

    [Fact]
    public void Undefined_length_UN_is_read_as_an_implicit_VR_sequence()
    {
        var file = DicomFile.Open(Sample("UN_sequence.dcm"));
        var seq = file.Dataset.GetSequence(new DicomTag(0x4453, 0x100C));
        var series = seq.Items[0].GetSequence(DicomTags.ReferencedSeriesSequence);
        Assert.Equal("1.2.840.10008.5.1.4.1.1.2", series.Items[0].GetSequence(DicomTags.ReferencedSOPSequence).Items[0].GetString(DicomTags.ReferencedSOPClassUID));
        Assert.Equal(DicomVR.UI, series.Items[0][DicomTags.SeriesInstanceUID].VR); // VR from the dictionary: implicit inside
    }

    [Fact]
    public void Undefined_length_UN_in_a_big_endian_file_is_still_implicit_little_endian_inside()
    {
        // PS3.5 6.2.2: the value of UN with undefined length is encoded in implicit VR little endian, whatever the outer syntax.
        var inner = new RawDicom(explicitVr: false).Item().Text(DicomTags.CodeValue, DicomVR.SH, "ABC").US(DicomTags.Rows, 513).ItemEnd().SequenceEnd();
        var ds = new RawDicom(bigEndian: true).Text(DicomTags.PatientID, DicomVR.LO, "P1")
            .Header(new DicomTag(0x0029, 0x0010), DicomVR.LO, 6).Bytes("VENDOR"u8)
            .Header(new DicomTag(0x0029, 0x1001), DicomVR.UN, 0xFFFFFFFF).Bytes(inner.ToArray())
            .US(DicomTags.Columns, 258);
        var file = DicomFile.Read(new MemoryStream(RawDicom.Part10(DicomTransferSyntax.ExplicitVRBigEndian.Uid, ds.ToArray())));
        var item = file.Dataset.GetSequence(new DicomTag(0x0029, 0x1001)).Items[0];
        Assert.Equal("ABC", item.GetString(DicomTags.CodeValue));
        Assert.Equal(513, item.Get<int>(DicomTags.Rows));
        Assert.Equal(258, file.Dataset.Get<int>(DicomTags.Columns)); // big endian again after the sequence
    }

    // ---- encapsulated pixel data ----

    [Fact]
    public void Basic_offset_table_is_kept_and_points_at_the_frames()
    {
        var file = DicomFile.Open(Sample("SC_rgb_rle_2frame.dcm"));
        var pixels = (DicomFragmentSequence)file.Dataset[DicomTags.PixelData];
        Assert.Equal(DicomVR.OB, pixels.VR);
        Assert.Equal(2, pixels.Fragments.Count);
        Assert.Equal([0u, 672u], pixels.BasicOffsets);
        Assert.Equal(672, 8 + pixels.Fragments[0].Length); // offsets count from the first fragment's item header
    }

    [Fact]
    public void Extended_offset_table_is_read_written_and_accepted_by_dcmtk()
    {
        byte[][] frames = [[1, 2, 3, 4, 5, 6], [7, 8, 9, 10]];
        var offsets = new byte[16];
        var lengths = new byte[16];
        BinaryPrimitives.WriteUInt64LittleEndian(offsets.AsSpan(8), (ulong)(8 + frames[0].Length));
        BinaryPrimitives.WriteUInt64LittleEndian(lengths, (ulong)frames[0].Length);
        BinaryPrimitives.WriteUInt64LittleEndian(lengths.AsSpan(8), (ulong)frames[1].Length);
        var ds = new RawDicom()
            .Text(DicomTags.SOPClassUID, DicomVR.UI, "1.2.840.10008.5.1.4.1.1.7").Text(DicomTags.SOPInstanceUID, DicomVR.UI, "1.2.3.4")
            .Text(DicomTags.NumberOfFrames, DicomVR.IS, "2")
            .Element(DicomTags.ExtendedOffsetTable, DicomVR.OV, offsets)
            .Element(DicomTags.ExtendedOffsetTableLengths, DicomVR.OV, lengths)
            .Header(DicomTags.PixelData, DicomVR.OB, 0xFFFFFFFF).Item(0) // empty basic offset table (required with an EOT)
            .Item((uint)frames[0].Length).Bytes(frames[0]).Item((uint)frames[1].Length).Bytes(frames[1]).SequenceEnd();
        var file = DicomFile.Read(new MemoryStream(RawDicom.Part10(DicomTransferSyntax.RLELossless.Uid, ds.ToArray())));

        Assert.Equal(DicomVR.OV, file.Dataset[DicomTags.ExtendedOffsetTable].VR);
        Assert.Equal([0UL, 14UL], file.Dataset.GetValues<ulong>(DicomTags.ExtendedOffsetTable));
        Assert.Equal([6UL, 4UL], file.Dataset.GetValues<ulong>(DicomTags.ExtendedOffsetTableLengths));
        var pixels = (DicomFragmentSequence)file.Dataset[DicomTags.PixelData];
        Assert.Empty(pixels.BasicOffsets);
        Assert.Equal(frames, pixels.Fragments.Select(f => f.Memory.ToArray()));

        var path = Path.GetTempFileName();
        try
        {
            file.Save(path);
            var dump = ExternalTools.Run("dcmdump", ["+L", path]);
            Assert.Equal(0, dump.ExitCode);
            Assert.Contains("(7fe0,0001) OV 0\\14", dump.Text, StringComparison.Ordinal);
            Assert.Contains("(7fe0,0002) OV 6\\4", dump.Text, StringComparison.Ordinal);
            Assert.Contains("(PixelSequence #=3)", dump.Text, StringComparison.Ordinal);
            Assert.Equal(frames, ((DicomFragmentSequence)DicomFile.Open(path).Dataset[DicomTags.PixelData]).Fragments.Select(f => f.Memory.ToArray()));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Encapsulated_pixel_data_declared_OW_is_OB()
    {
        // 693_J2KI.dcm writes VR OW in front of encapsulated pixel data; PS3.5 A.4 says OB, as DCMTK reports.
        var file = DicomFile.Open(Sample("693_J2KI.dcm"));
        Assert.Equal(DicomVR.OB, file.Dataset[DicomTags.PixelData].VR);
    }

    // ---- multi-VR resolution in implicit VR ----

    [Theory]
    [InlineData(0, DicomVR.US, 65535)]
    [InlineData(1, DicomVR.SS, -1)]
    public void US_or_SS_follows_Pixel_Representation_in_implicit_VR_also_inside_items(ushort pixelRepresentation, DicomVR expected, int value)
    {
        var ds = new RawDicom(explicitVr: false)
            .US(DicomTags.PixelRepresentation, pixelRepresentation)
            .Element(DicomTags.SmallestImagePixelValue, DicomVR.None, [0xFF, 0xFF])
            .Header(DicomTags.VOILUTSequence, DicomVR.SQ, 0xFFFFFFFF).Item()
            .Element(DicomTags.LUTDescriptor, DicomVR.None, [0xFF, 0xFF, 0, 0, 16, 0])
            .ItemEnd().SequenceEnd()
            .Element(DicomTags.PixelData, DicomVR.None, [0, 0]);
        var file = DicomFile.Read(new MemoryStream(RawDicom.Part10(DicomTransferSyntax.ImplicitVRLittleEndian.Uid, ds.ToArray())));
        Assert.Equal(expected, file.Dataset[DicomTags.SmallestImagePixelValue].VR);
        Assert.Equal(value, file.Dataset.Get<int>(DicomTags.SmallestImagePixelValue));
        var item = file.Dataset.GetSequence(DicomTags.VOILUTSequence).Items[0];
        Assert.Equal(expected, item[DicomTags.LUTDescriptor].VR);
        Assert.Equal(DicomVR.OW, file.Dataset[DicomTags.PixelData].VR); // OB or OW: implicit VR pixel data is OW (PS3.5 A.1)
    }

    [Fact]
    public void Sample_implicit_file_resolves_US_or_SS_as_dcmtk_does()
    {
        var file = DicomFile.Open(Sample("MR_small_implicit.dcm"));
        Assert.Equal(1, file.Dataset.Get<int>(DicomTags.PixelRepresentation));
        Assert.Equal(DicomVR.SS, file.Dataset[DicomTags.LargestImagePixelValue].VR);
    }

    // ---- streams ----

    [Theory]
    [InlineData("CT_small.dcm", false)]
    [InlineData("CT_small.dcm", true)]
    [InlineData("image_dfl.dcm", false)]
    [InlineData("MR_small_bigendian.dcm", true)]
    [InlineData("UN_sequence.dcm", false)]
    [InlineData("JPEG2000.dcm", false)]
    public void A_stream_that_delivers_one_byte_per_read_gives_the_same_result(string name, bool stopBeforePixels)
    {
        var options = new DicomReadOptions { StopBeforePixelData = stopBeforePixels };
        var expected = DicomFile.Read(new MemoryStream(File.ReadAllBytes(Sample(name))), options);
        var trickled = DicomFile.Read(new TrickleStream(File.ReadAllBytes(Sample(name))), options);
        Assert.Equal(DicomDump.ToText(expected, new DicomDumpOptions { MaxValueChars = null }), DicomDump.ToText(trickled, new DicomDumpOptions { MaxValueChars = null }));
        Assert.Equal(expected.IsPartial, trickled.IsPartial);
    }

    private sealed class TrickleStream(byte[] data) : ReadOnlyStream
    {
        private int _pos;
        public override int Read(Span<byte> buffer)
        {
            if (_pos >= data.Length || buffer.Length == 0) return 0;
            buffer[0] = data[_pos++];
            return 1;
        }
    }

    // ---- structural errors and tolerances ----

    [Fact]
    public void An_item_delimiter_outside_an_undefined_length_item_is_an_error_not_the_end_of_the_data()
    {
        var ds = new RawDicom().Text(DicomTags.PatientID, DicomVR.LO, "P1").ItemEnd().Text(DicomTags.PatientName, DicomVR.PN, "A^B");
        var ex = Assert.Throws<DicomFormatException>(() => DicomFile.Read(new MemoryStream(RawDicom.Part10(DicomTransferSyntax.ExplicitVRLittleEndian.Uid, ds.ToArray()))));
        Assert.Equal(DicomTag.ItemDelimitationItem, ex.Tag);
    }

    [Fact]
    public void An_element_running_past_the_end_of_its_item_is_an_error()
    {
        var ds = new RawDicom().Header(DicomTags.ReferencedImageSequence, DicomVR.SQ, 30).Item(22)
            .Text(DicomTags.ReferencedSOPInstanceUID, DicomVR.UI, "1.2.3.4.5.6.7.8"); // 8 + 16 bytes in a 22-byte item
        Assert.Throws<DicomFormatException>(() => DicomFile.Read(new MemoryStream(RawDicom.Part10(DicomTransferSyntax.ExplicitVRLittleEndian.Uid, ds.ToArray()))));
    }

    [Fact]
    public void Implicit_data_under_an_explicit_transfer_syntax_is_detected_with_a_warning()
    {
        var ds = new RawDicom(explicitVr: false).Text(DicomTags.PatientID, DicomVR.LO, "P1").Text(DicomTags.PatientName, DicomVR.PN, "A^B");
        var file = DicomFile.Read(new MemoryStream(RawDicom.Part10(DicomTransferSyntax.ExplicitVRLittleEndian.Uid, ds.ToArray())));
        Assert.Equal("A^B", file.Dataset.GetString(DicomTags.PatientName));
        Assert.Single(file.Warnings);
    }

    [Fact]
    public void Implicit_lengths_that_look_like_a_VR_do_not_switch_to_explicit()
    {
        // (0008,0016) with a 0x4955 ("UI" in little endian) byte value in implicit VR: the letters are the length, and
        // the value really is that long, so the data set stays implicit.
        var uid = new string('1', 0x4955);
        var ds = new RawDicom(explicitVr: false).Text(DicomTags.SOPClassUID, DicomVR.UI, uid).Text(DicomTags.PatientName, DicomVR.PN, "A^B");
        var file = DicomFile.Read(new MemoryStream(RawDicom.Part10(DicomTransferSyntax.ImplicitVRLittleEndian.Uid, ds.ToArray())));
        Assert.Equal("A^B", file.Dataset.GetString(DicomTags.PatientName));
        Assert.Empty(file.Warnings);
    }

    [Fact]
    public void Nesting_deeper_than_MaxDepth_is_rejected()
    {
        var ds = new RawDicom();
        for (int i = 0; i < 70; i++) ds.Header(DicomTags.ReferencedImageSequence, DicomVR.SQ, 0xFFFFFFFF).Item();
        for (int i = 0; i < 70; i++) ds.ItemEnd().SequenceEnd();
        var bytes = RawDicom.Part10(DicomTransferSyntax.ExplicitVRLittleEndian.Uid, ds.ToArray());
        Assert.Throws<DicomFormatException>(() => DicomFile.Read(new MemoryStream(bytes)));
        var file = DicomFile.Read(new MemoryStream(bytes), new DicomReadOptions { MaxDepth = 100 });
        Assert.Single(file.Dataset);
    }
}
