using Kaapana.Dicom;
using Kaapana.Tests.Dicom.Conformance;

namespace Kaapana.Tests.Dicom.IO;

public class DicomDumpTests
{
    [Fact]
    public void Lines_give_depth_kind_vr_vm_value_and_length_for_nested_data()
    {
        var ds = new DicomDataset()
            .Set(DicomTags.ImageType, "ORIGINAL", "PRIMARY")
            .Set(DicomTags.Rows, (ushort)512)
            .Set(DicomTags.PixelSpacing, "0.5", "0.25")
            .Set(DicomTags.FrameIncrementPointer, DicomTags.FrameTime)
            .SetEmpty(DicomTags.PatientName)
            .SetSequence(DicomTags.ReferencedImageSequence, new DicomDataset().Set(DicomTags.ReferencedSOPInstanceUID, "1.2.3"))
            .Set(new DicomFragmentSequence(DicomTags.PixelData, DicomVR.OB, DicomBuffer.Empty, [DicomBuffer.From(new byte[] { 0xFF, 0xD8 })]));
        var lines = DicomDump.Lines(ds).ToList();
        Assert.Equal(
            [
                (0, DicomDumpKind.Element, "(0008,0008)", DicomVR.CS, 2, "ORIGINAL\\PRIMARY", (long?)16, 0),
                (0, DicomDumpKind.Sequence, "(0008,1140)", DicomVR.SQ, 1, null, null, 1),
                (1, DicomDumpKind.Item, "(FFFE,E000)", DicomVR.None, 1, null, null, 1),
                (2, DicomDumpKind.Element, "(0008,1155)", DicomVR.UI, 1, "1.2.3\0", 6, 0),
                (0, DicomDumpKind.Element, "(0010,0010)", DicomVR.PN, 0, "", 0, 0),
                (0, DicomDumpKind.Element, "(0028,0009)", DicomVR.AT, 1, "(0018,1063)", 4, 0),
                (0, DicomDumpKind.Element, "(0028,0010)", DicomVR.US, 1, "512", 2, 0),
                (0, DicomDumpKind.Element, "(0028,0030)", DicomVR.DS, 2, "0.5\\0.25", 8, 0),
                (0, DicomDumpKind.EncapsulatedPixelData, "(7FE0,0010)", DicomVR.OB, 1, null, null, 2),
                (1, DicomDumpKind.Fragment, "(FFFE,E000)", DicomVR.None, 1, "", 0, 0),
                (1, DicomDumpKind.Fragment, "(FFFE,E000)", DicomVR.None, 1, "ff\\d8", 2, 0),
            ],
            lines.Select(l => (l.Depth, l.Kind, l.Tag.ToString(), l.VR, l.VM, l.Value, l.Length, l.Count)));
        Assert.Equal("ReferencedSOPInstanceUID", lines[3].Keyword);
    }

    [Fact]
    public void Text_form_looks_like_dcmdump_and_escapes_control_characters()
    {
        var ds = new DicomDataset().Set(DicomTags.PatientName, "Doe^John").Set(DicomTags.StudyDescription, "a\tb");
        var text = DicomDump.ToText(ds);
        Assert.Contains("(0010,0010) PN [Doe^John]", text, StringComparison.Ordinal);
        Assert.Contains("#    8, 1 PatientName", text, StringComparison.Ordinal);
        Assert.Contains("[a\\x09b ]", text, StringComparison.Ordinal);
        Assert.Equal(2, text.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
    }

    [Fact]
    public void Values_left_in_the_file_are_not_loaded_for_a_listing()
    {
        var file = DicomFile.Open(ExternalTools.FullPath("test_files/MR_small.dcm"), new DicomReadOptions { LargeValueThreshold = 1024 });
        var pixel = DicomDump.Lines(file).Single(l => l.Tag == DicomTags.PixelData);
        Assert.Null(pixel.Value);
        Assert.Equal(8192, pixel.Length);
        Assert.Contains("(not loaded)", DicomDump.Format(pixel), StringComparison.Ordinal);
        var text = DicomDump.ToText(file);
        Assert.StartsWith("# File meta information", text, StringComparison.Ordinal);
        Assert.Contains("# Data set (Explicit VR Little Endian)", text, StringComparison.Ordinal);
    }

    [Fact]
    public void Bulk_values_show_a_short_hex_preview()
    {
        var ds = new DicomDataset()
            .SetBytes(new DicomTag(0x0009, 0x1001), DicomVR.OB, Enumerable.Range(0, 40).Select(i => (byte)i).ToArray())
            .SetBytes(DicomTags.PixelData, DicomVR.OW, new byte[] { 0x34, 0x12, 0x78, 0x56 });
        var lines = DicomDump.Lines(ds, new DicomDumpOptions { BulkPreviewBytes = 4 }).ToList();
        Assert.Equal("00\\01\\02\\03...", lines[0].Value);
        Assert.Equal(1, lines[0].VM);
        Assert.Equal("1234\\5678", lines[1].Value); // OW as little-endian words, as dcmdump prints them
    }

    [Fact]
    public void Decoded_text_uses_the_character_set_of_the_enclosing_data_set()
    {
        var file = DicomFile.Open(ExternalTools.FullPath("charset_files/chrSQEncoding1.dcm"));
        var name = DicomDump.Lines(file).Single(l => l.Tag == DicomTags.PatientName);
        Assert.Equal(2, name.Depth); // inside an item that inherits ISO 2022 IR 13\ISO 2022 IR 87 from the data set
        Assert.Equal("ﾔﾏﾀﾞ^ﾀﾛｳ=山田^太郎=やまだ^たろう", name.Value);
    }
}
