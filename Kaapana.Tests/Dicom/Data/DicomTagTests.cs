using Kaapana.Dicom;

namespace Kaapana.Tests.Dicom.Data;

public class DicomTagTests
{
    [Theory]
    [InlineData("(0010,0010)")]
    [InlineData("0010,0010")]
    [InlineData("00100010")]
    [InlineData("PatientName")]
    [InlineData(" (0010,0010) ")]
    public void Parse_accepts_every_notation(string text) =>
        Assert.Equal(new DicomTag(0x0010, 0x0010), DicomTag.Parse(text));

    [Theory]
    [InlineData("")]
    [InlineData("(0010,001G)")]
    [InlineData("NoSuchKeyword")]
    [InlineData("0010001")]
    public void TryParse_rejects_garbage(string text) => Assert.False(DicomTag.TryParse(text, out _));

    [Fact]
    public void Private_tags_are_classified()
    {
        var creator = new DicomTag(0x0009, 0x0010);
        var data = new DicomTag(0x0009, 0x1001);
        Assert.True(creator.IsPrivate);
        Assert.True(creator.IsPrivateCreator);
        Assert.False(data.IsPrivateCreator);
        Assert.Equal(creator, data.PrivateCreatorTag);
        Assert.False(new DicomTag(0x0010, 0x0010).IsPrivate);
        Assert.False(new DicomTag(0xFFFF, 0x0010).IsPrivate);
    }

    [Fact]
    public void Order_follows_group_then_element()
    {
        Assert.True(new DicomTag(0x0008, 0xFFFF) < new DicomTag(0x0010, 0x0000));
        Assert.Equal("(7FE0,0010)", DicomTags.PixelData.ToString());
    }
}
