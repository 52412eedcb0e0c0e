using Kaapana.Dicom;
using Kaapana.Tests.Dicom.Imaging;

namespace Kaapana.Tests.Dicom.IO;

/// <summary>
/// The file meta information the writer builds from a data set, checked by DCMTK (<c>dcmftest</c>, <c>dcmdump -M</c>) on
/// pydicom samples whose SOP UIDs are odd: stored as UN (rtdose_rle*.dcm, written so by a converter) or absent
/// (empty_charset_LEI.dcm, whose meta has none either).
/// </summary>
public class DicomWriterMetaTests
{
    [Theory]
    [InlineData("rtdose_rle.dcm")]
    [InlineData("rtdose_rle_1frame.dcm")]
    public void Sop_uids_stored_as_UN_become_the_media_storage_uids_as_text(string sample)
    {
        var original = DicomFile.Open(ImagingTools.SampleFile(sample));
        Assert.Equal(DicomVR.UN, original.Dataset[DicomTags.SOPInstanceUID].VR); // the premise: the sample stores them as UN
        using var dir = new ImagingTools.TempDir();
        var output = dir.File(sample);
        original.Save(output);

        Assert.Equal("yes: " + output, ImagingTools.RunOk("dcmftest", output).Text.Trim());
        var meta = ImagingTools.RunOk("dcmdump", "-M", "+L", output).Text;
        Assert.Contains("(0002,0002) UI =RTDoseStorage", meta);
        Assert.Contains("(0002,0003) UI [1.9.999.999.99.9.9999.9999.20030818153516]", meta);
        Assert.Equal("1.2.840.10008.5.1.4.1.1.481.2", original.Dataset.GetString(DicomTags.SOPClassUID));
        var back = DicomFile.Open(output);
        Assert.Equal(original.FileMetaInfo.GetString(DicomTags.MediaStorageSOPInstanceUID), back.FileMetaInfo.GetString(DicomTags.MediaStorageSOPInstanceUID));
        Assert.Equal(original.FileMetaInfo.GetString(DicomTags.MediaStorageSOPClassUID), back.FileMetaInfo.GetString(DicomTags.MediaStorageSOPClassUID));
    }

    [Fact]
    public void Without_sop_uids_in_data_set_and_meta_the_writer_refuses_rather_than_writing_empty_ones()
    {
        var file = DicomFile.Open(ImagingTools.SampleFile("empty_charset_LEI.dcm"));
        Assert.False(file.Dataset.Contains(DicomTags.SOPInstanceUID));
        var ex = Assert.Throws<DicomException>(() => file.Save(new MemoryStream()));
        Assert.Contains("SOP Class UID", ex.Message);
    }

    [Fact]
    public void Without_sop_uids_in_the_data_set_the_original_meta_values_stay()
    {
        var file = DicomFile.Open(ImagingTools.SampleFile("empty_charset_LEI.dcm"));
        var meta = file.FileMetaInfo.Clone()
            .Set(DicomTags.MediaStorageSOPClassUID, DicomVR.UI, DicomUids.SecondaryCaptureImageStorage)
            .Set(DicomTags.MediaStorageSOPInstanceUID, DicomVR.UI, "1.2.3.4.5.6");
        using var dir = new ImagingTools.TempDir();
        var output = dir.File("kept.dcm");
        new DicomFile(meta, file.Dataset, file.TransferSyntax).Save(output);

        Assert.Equal("yes: " + output, ImagingTools.RunOk("dcmftest", output).Text.Trim());
        var dump = ImagingTools.RunOk("dcmdump", "-M", "+L", output).Text;
        Assert.Contains("(0002,0002) UI =SecondaryCaptureImageStorage", dump);
        Assert.Contains("(0002,0003) UI [1.2.3.4.5.6]", dump);
    }
}
