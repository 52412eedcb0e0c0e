using Kaapana.Dicom;

namespace Kaapana.Tests.Dicom.Data;

public class DicomDatasetTests
{
    [Fact]
    public void Keyword_and_tag_reach_the_same_element_and_order_is_kept()
    {
        var ds = new DicomDataset()
            .Set(DicomTags.PatientName, "Doe^John")
            .Set(DicomTags.Modality, "CT")
            .Set(DicomTags.PatientID, "P1");
        Assert.Same(ds[DicomTags.PatientName], ds["PatientName"]);
        Assert.Equal([DicomTags.Modality, DicomTags.PatientName, DicomTags.PatientID], ds.Select(e => e.Tag));
        Assert.Equal(DicomVR.PN, ds[DicomTags.PatientName].VR);
    }

    [Fact]
    public void Missing_elements_raise_TagNotFound_and_TryGet_says_false()
    {
        var ds = new DicomDataset();
        Assert.Throws<DicomTagNotFoundException>(() => ds.Get<string>(DicomTags.PatientName));
        Assert.False(ds.TryGet<string>(DicomTags.PatientName, out _));
        Assert.Equal("x", ds.GetOrDefault(DicomTags.PatientName, "x"));
        Assert.Equal("", ds.GetString(DicomTags.PatientName));
    }

    [Fact]
    public void Strings_are_split_and_padding_removed()
    {
        var ds = new DicomDataset().Set(DicomTags.ImageType, "ORIGINAL", "PRIMARY", "AXIAL");
        Assert.Equal(["ORIGINAL", "PRIMARY", "AXIAL"], ds.GetStrings(DicomTags.ImageType));
        Assert.Equal(3, ds.GetValueCount(DicomTags.ImageType));
        Assert.Equal("PRIMARY", ds.Get<string>(DicomTags.ImageType, 1));
        Assert.Equal(0, ((DicomValueElement)ds[DicomTags.ImageType]).Length % 2);
        ds.Set(DicomTags.SOPInstanceUID, "1.2.3");
        var raw = ((DicomValueElement)ds[DicomTags.SOPInstanceUID]).Span.ToArray();
        Assert.Equal((byte)0, raw[^1]); // UI pads with NUL
        Assert.Equal("1.2.3", ds.GetString(DicomTags.SOPInstanceUID));
    }

    [Fact]
    public void Numbers_from_binary_and_string_VRs()
    {
        var ds = new DicomDataset()
            .Set<ushort>(DicomTags.Rows, 512)
            .Set(DicomTags.SliceThickness, DicomVR.DS, 1.25)
            .Set(DicomTags.InstanceNumber, DicomVR.IS, 17)
            .Set<double>(DicomTags.PixelSpacing, 0.5, 0.75)
            .Set(DicomTags.SmallestImagePixelValue, DicomVR.SS, (short)-1024);
        Assert.Equal(512, ds.Get<int>(DicomTags.Rows));
        Assert.Equal(1.25, ds.Get<double>(DicomTags.SliceThickness));
        Assert.Equal(1.25m, ds.Get<decimal>(DicomTags.SliceThickness));
        Assert.Equal(17L, ds.Get<long>(DicomTags.InstanceNumber));
        Assert.Equal([0.5, 0.75], ds.GetValues<double>(DicomTags.PixelSpacing));
        Assert.Equal(-1024, ds.Get<int>(DicomTags.SmallestImagePixelValue));
        Assert.False(ds.TryGet<ushort>(DicomTags.SmallestImagePixelValue, out _)); // negative does not fit
        Assert.Throws<DicomValueException>(() => ds.Get<int>(DicomTags.Rows, 1));
        Assert.Equal("512", ds.GetString(DicomTags.Rows));
    }

    [Fact]
    public void Decimal_strings_never_exceed_sixteen_characters()
    {
        var ds = new DicomDataset().Set(DicomTags.SliceLocation, DicomVR.DS, Math.PI * 1e10);
        var text = ds.GetString(DicomTags.SliceLocation);
        Assert.True(text.Length <= 16, text);
        Assert.Equal(Math.PI * 1e10, ds.Get<double>(DicomTags.SliceLocation), 1e-3);
    }

    [Fact]
    public void Dates_times_and_datetimes()
    {
        var ds = new DicomDataset()
            .Set(DicomTags.StudyDate, "20240229")
            .Set(DicomTags.StudyTime, "134501.25")
            .Set(DicomTags.AcquisitionDateTime, "20240229134501.123456+0130")
            .Set(DicomTags.PatientBirthDate, "1961.03.04")
            .Set(DicomTags.SeriesTime, "1345");
        Assert.Equal(new DateOnly(2024, 2, 29), ds.Get<DateOnly>(DicomTags.StudyDate));
        Assert.Equal(new TimeOnly(13, 45, 1, 250), ds.Get<TimeOnly>(DicomTags.StudyTime));
        Assert.Equal(new TimeOnly(13, 45), ds.Get<TimeOnly>(DicomTags.SeriesTime));
        var dt = ds.Get<DateTimeOffset>(DicomTags.AcquisitionDateTime);
        Assert.Equal(TimeSpan.FromMinutes(90), dt.Offset);
        Assert.Equal(123456_0, (int)(dt.Ticks % TimeSpan.TicksPerSecond));
        Assert.Equal(new DateOnly(1961, 3, 4), ds.Get<DateOnly>(DicomTags.PatientBirthDate));
        ds.Set(DicomTags.ContentDate, "20241301");
        Assert.False(ds.TryGet<DateOnly>(DicomTags.ContentDate, out _));
        ds.Set(DicomTags.AcquisitionDateTime, "20240229134501+9900"); // offset beyond ±14 h
        Assert.False(ds.TryGet<DateTimeOffset>(DicomTags.AcquisitionDateTime, out _));
        ds.Set(DicomTags.AcquisitionDateTime, "20240229134501.");
        Assert.False(ds.TryGet<DateTimeOffset>(DicomTags.AcquisitionDateTime, out _));

        ds.Set(DicomTags.ContentDate, new DateOnly(2001, 2, 3));
        ds.Set(DicomTags.ContentTime, new TimeOnly(4, 5, 6));
        Assert.Equal("20010203", ds.GetString(DicomTags.ContentDate));
        Assert.Equal("040506", ds.GetString(DicomTags.ContentTime));
    }

    [Fact]
    public void Person_names_have_component_groups()
    {
        var ds = new DicomDataset().Set(DicomTags.PatientName, "Yamada^Tarou=山田^太郎=やまだ^たろう");
        var pn = ds.Get<DicomPersonName>(DicomTags.PatientName);
        Assert.Equal("Yamada", pn.FamilyName);
        Assert.Equal("Tarou", pn.GivenName);
        Assert.Equal("山田", pn.Ideographic.FamilyName);
        Assert.Equal("たろう", pn.Phonetic.GivenName);
        Assert.Equal("Yamada^Tarou=山田^太郎=やまだ^たろう", pn.ToString());
        Assert.Equal("Doe^Jane^^Dr", new DicomPersonName("Doe", "Jane", "", "Dr").ToString());
    }

    [Fact]
    public void Text_the_character_set_cannot_hold_is_an_error_not_question_marks()
    {
        var latin1 = new DicomDataset().Set(DicomTags.SpecificCharacterSet, "ISO_IR 100").Set(DicomTags.PatientName, "Müller");
        Assert.Equal("Müller", latin1.GetString(DicomTags.PatientName));
        Assert.Throws<DicomValueException>(() => latin1.Set(DicomTags.PatientName, "山田"));

        // A data set still in the default repertoire moves to UTF-8 (ASCII is a subset, nothing already stored changes meaning).
        var plain = new DicomDataset().Set(DicomTags.PatientID, "ABC");
        var item = new DicomDataset();
        plain.SetSequence(DicomTags.OtherPatientIDsSequence, item);
        item.Set(DicomTags.PatientName, "山田");
        Assert.Equal("ISO_IR 192", plain.GetString(DicomTags.SpecificCharacterSet));
        Assert.Equal("山田", item.GetString(DicomTags.PatientName));
    }

    [Fact]
    public void Attribute_tags_round_trip()
    {
        var ds = new DicomDataset().Set(DicomTags.FrameIncrementPointer, DicomVR.AT, DicomTags.FrameTime, DicomTags.SliceLocation);
        Assert.Equal([DicomTags.FrameTime, DicomTags.SliceLocation], ds.GetValues<DicomTag>(DicomTags.FrameIncrementPointer));
        Assert.Equal(8, ((DicomValueElement)ds[DicomTags.FrameIncrementPointer]).Length);
    }

    [Fact]
    public void Sequences_nest_and_items_inherit_the_character_set()
    {
        var item = new DicomDataset().Set(DicomTags.CodeMeaning, "Brain");
        var ds = new DicomDataset().Set(DicomTags.SpecificCharacterSet, "ISO_IR 192").SetSequence(DicomTags.AnatomicRegionSequence, item);
        Assert.Same(ds, ds.GetSequence(DicomTags.AnatomicRegionSequence).Items[0].Parent!.Owner);
        Assert.Equal(["ISO_IR 192"], item.CharacterSet.Terms);
        item.Set(DicomTags.CodeMeaning, "Gehirn – groß");
        Assert.Equal("Gehirn – groß", item.GetString(DicomTags.CodeMeaning));
        Assert.Equal(1, ds.GetValueCount(DicomTags.AnatomicRegionSequence));
    }

    [Fact]
    public void Private_tags_reserve_a_block_per_creator()
    {
        var ds = new DicomDataset();
        var a = ds.GetPrivateTag(0x0029, "ACME 1.0", 0x01)!.Value;
        var b = ds.GetPrivateTag(0x0029, "OTHER", 0x01)!.Value;
        Assert.Equal(new DicomTag(0x0029, 0x1001), a);
        Assert.Equal(new DicomTag(0x0029, 0x1101), b);
        Assert.Equal(a, ds.GetPrivateTag(0x0029, "ACME 1.0", 0x01, reserve: false));
        Assert.Null(ds.GetPrivateTag(0x0029, "NOBODY", 0x01, reserve: false));
        ds.Set(a, DicomVR.LO, "secret");
        Assert.Equal("ACME 1.0", ds.GetPrivateCreator(a));
        Assert.Throws<ArgumentException>(() => ds.GetPrivateTag(0x0010, "X", 1));
    }

    [Fact]
    public void All_new_VRs_store_values()
    {
        var ds = new DicomDataset()
            .Set(new DicomTag(0x0009, 0x0010), DicomVR.LO, "T")
            .Set(new DicomTag(0x0009, 0x1001), DicomVR.SV, -5L, long.MaxValue)
            .Set(new DicomTag(0x0009, 0x1002), DicomVR.UV, ulong.MaxValue)
            .Set(new DicomTag(0x0009, 0x1003), DicomVR.OV, 7UL)
            .Set(new DicomTag(0x0009, 0x1004), DicomVR.UR, "http://example.org/a b")
            .Set(new DicomTag(0x0009, 0x1005), DicomVR.UC, "one", "two");
        Assert.Equal(long.MaxValue, ds.Get<long>(new DicomTag(0x0009, 0x1001), 1));
        Assert.Equal(ulong.MaxValue, ds.Get<ulong>(new DicomTag(0x0009, 0x1002)));
        Assert.Equal(7UL, ds.Get<ulong>(new DicomTag(0x0009, 0x1003)));
        Assert.Equal("http://example.org/a b", ds.GetString(new DicomTag(0x0009, 0x1004)));
        Assert.Equal(["one", "two"], ds.GetStrings(new DicomTag(0x0009, 0x1005)));
    }

    [Fact]
    public void Raw_bytes_are_available_as_array_and_memory()
    {
        var ds = new DicomDataset().SetBytes(DicomTags.PixelData, DicomVR.OW, new byte[] { 1, 2, 3, 4 });
        Assert.Equal(new byte[] { 1, 2, 3, 4 }, ds.Get<byte[]>(DicomTags.PixelData));
        Assert.Equal(4, ds.Get<ReadOnlyMemory<byte>>(DicomTags.PixelData).Length);
    }

    [Fact]
    public void Clone_is_deep_for_structure()
    {
        var ds = new DicomDataset().SetSequence(DicomTags.ReferencedImageSequence, new DicomDataset().Set(DicomTags.ReferencedSOPInstanceUID, "1.2"));
        var copy = ds.Clone();
        copy.GetSequence(DicomTags.ReferencedImageSequence).Items[0].Set(DicomTags.ReferencedSOPInstanceUID, "9.9");
        Assert.Equal("1.2", ds.GetSequence(DicomTags.ReferencedImageSequence).Items[0].GetString(DicomTags.ReferencedSOPInstanceUID));
    }
}
