using Kaapana.Dicom;
using Kaapana.Dicom.Deidentification;

namespace Kaapana.Tests.Dicom.Deidentification;

/// <summary>The transcription of PS3.15 Table E.1-1 checked against our PS3.6 dictionary, and rows spot-checked against the standard.</summary>
public class ConfidentialityProfileTableTests
{
    private static string Normalize(string name) =>
        new string(System.Text.RegularExpressions.Regex.Replace(name.ToLowerInvariant(), @"\((trial|see note 12|type [^)]*)\)", "")
            .Where(char.IsAsciiLetterOrDigit).ToArray());

    [Fact]
    public void EveryRowNamesTheDictionaryAttributeOfItsTag()
    {
        var rules = ConfidentialityProfileTable.Rules;
        Assert.True(rules.Count > 450, $"only {rules.Count} rows");
        var wrong = new List<string>();
        foreach (var r in rules.Where(r => r.Mask == 0xFFFFFFFF))
        {
            var entry = DicomDictionary.Lookup(r.Tag);
            if (entry is null) wrong.Add($"{r.Tag} {r.Name}: not in the dictionary");
            else if (Normalize(entry.Name) != Normalize(r.Name)) wrong.Add($"{r.Tag} '{r.Name}' vs dictionary '{entry.Name}'");
        }
        Assert.True(wrong.Count == 0, string.Join('\n', wrong));
        Assert.NotNull(ConfidentialityProfileTable.Find(new DicomTag(0x6002, 0x3000))); // (60xx,3000) pattern
        Assert.NotNull(ConfidentialityProfileTable.Find(new DicomTag(0x5004, 0x0010))); // (50xx,xxxx) pattern
        Assert.Null(ConfidentialityProfileTable.Find(DicomTags.Rows));
    }

    [Theory]
    // (tag, basic action, action with all retain options) as PS3.15 Table E.1-1 gives them.
    [InlineData("PatientName", "Z", "Z")]
    [InlineData("PatientID", "Z", "Z")]
    [InlineData("PatientBirthDate", "Z", "Z")]
    [InlineData("PatientSex", "Z", "K")]
    [InlineData("PatientAge", "X", "K")]
    [InlineData("StudyDate", "Z", "K")]
    [InlineData("SeriesDate", "X/D", "K")]
    [InlineData("AcquisitionDateTime", "X/Z/D", "K")]
    [InlineData("ContentDate", "Z/D", "K")]
    [InlineData("StudyInstanceUID", "U", "K")]
    [InlineData("ReferencedSOPInstanceUID", "U", "K")]
    [InlineData("SourceImageSequence", "X/Z/U*", "K")]
    [InlineData("DeviceSerialNumber", "X/Z/D", "K")]
    [InlineData("StationName", "X/Z/D", "K")]
    [InlineData("InstitutionName", "X/Z/D", "K")]
    [InlineData("AccessionNumber", "Z", "Z")]
    [InlineData("ReferringPhysicianName", "Z", "Z")]
    [InlineData("OperatorsName", "X/Z/D", "X/Z/D")]
    [InlineData("ImageComments", "X", "X")]
    [InlineData("ReferencedPatientSequence", "X", "X")]
    public void RowsMatchTheStandard(string keyword, string basic, string retained)
    {
        var rule = ConfidentialityProfileTable.Find(DicomTag.Parse(keyword));
        Assert.NotNull(rule);
        Assert.Equal(basic, rule.Basic.ToCode());
        var all = ConfidentialityOption.RetainLongitudinalFullDates | ConfidentialityOption.RetainPatientCharacteristics
            | ConfidentialityOption.RetainDeviceIdentity | ConfidentialityOption.RetainInstitutionIdentity | ConfidentialityOption.RetainUids;
        Assert.Equal(retained, rule.ActionFor(all).ToCode());
    }
}
