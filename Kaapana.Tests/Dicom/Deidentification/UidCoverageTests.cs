using Kaapana.Dicom;
using Kaapana.Dicom.Deidentification;
using Kaapana.Tests.Dicom.Imaging;

namespace Kaapana.Tests.Dicom.Deidentification;

/// <summary>
/// No UID of an instance, series, study, frame of reference or repository survives de-identification because the table forgot
/// its attribute: every UI attribute of the PS3.6 dictionary has a rule, or names a class, syntax, coding scheme or template
/// (which identify no one and must stay, e.g. a private SOP class).
/// </summary>
public class UidCoverageTests
{
    // What PS3.6 calls these: SOP classes, transfer syntaxes, coding schemes, context groups, templates, application classes.
    private static bool NamesAKind(DicomDictionaryEntry e) =>
        e.Keyword.Contains("ClassUID", StringComparison.Ordinal) || e.Keyword.Contains("SyntaxUID", StringComparison.Ordinal)
        || e.Keyword.Contains("SOPClasses", StringComparison.Ordinal) || e.Keyword.Contains("ClassesIn", StringComparison.Ordinal)
        || e.Keyword is "CodingSchemeUID" or "ContextUID" or "MappingResourceUID" or "SegmentationTemplateUID" or "SelectorUIValue"
            or "ReferencedContentItem";

    [Fact]
    public void Every_uid_attribute_of_the_dictionary_has_a_rule_or_names_a_kind()
    {
        var uidAttributes = DicomDictionary.Entries
            // Command (0000) and file meta (0002) elements are not in data sets; DICOMDIRs (0004) are refused.
            .Where(e => !e.IsRepeater && e.VRs is [DicomVR.UI] && !e.Tag.IsPrivate && e.Tag.Group is not (0x0000 or 0x0002 or 0x0004)).ToList();
        Assert.True(uidAttributes.Count > 80, $"only {uidAttributes.Count} UI attributes in the dictionary");
        Assert.Contains(uidAttributes, e => e.Keyword == "RetrieveLocationUID");
        var uncovered = uidAttributes
            .Where(e => ConfidentialityProfileTable.Find(e.Tag) is null && !NamesAKind(e))
            .Select(e => $"{e.FormatTag()} {e.Keyword}").ToList();
        Assert.True(uncovered.Count == 0, "UI attributes without a de-identification rule:\n" + string.Join('\n', uncovered));
    }

    [Fact]
    public void Findings_group_and_repository_uids_are_remapped_or_removed()
    {
        var ds = SyntheticCt.Series(1, 8)[0].Dataset;
        var item = new DicomDataset();
        item.Set(new DicomTag(0x0040, 0xA021), DicomVR.UI, "1.2.3.4.5.6.7");
        item.Set(new DicomTag(0x0040, 0xA022), DicomVR.UI, "1.2.3.4.5.6.8");
        item.Set(DicomTags.RetrieveLocationUID, DicomVR.UI, "1.2.3.99");
        ds.SetSequence(DicomTags.SharedFunctionalGroupsSequence, item);
        ds.Set(DicomTags.RetrieveLocationUID, DicomVR.UI, "1.2.3.99");
        var mapping = new HmacDeidentificationMapping("uid-coverage-secret-0123456789"u8, "p");
        var result = new DicomDeidentifier(new DeidentificationOptions(), mapping).Deidentify(ds);
        Assert.False(result.Contains(DicomTags.RetrieveLocationUID));
        var nested = result.GetSequence(DicomTags.SharedFunctionalGroupsSequence).Items[0];
        Assert.Equal(mapping.MapUid("1.2.3.4.5.6.7"), nested.GetString(new DicomTag(0x0040, 0xA021)));
        Assert.Equal(mapping.MapUid("1.2.3.4.5.6.8"), nested.GetString(new DicomTag(0x0040, 0xA022)));
        Assert.False(nested.Contains(DicomTags.RetrieveLocationUID));
        var kept = new DicomDeidentifier(new DeidentificationOptions { RetainInstitutionIdentity = true }, mapping).Deidentify(ds);
        Assert.Equal("1.2.3.99", kept.GetString(DicomTags.RetrieveLocationUID));
    }
}
