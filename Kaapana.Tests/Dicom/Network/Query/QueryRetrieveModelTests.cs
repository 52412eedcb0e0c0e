using Kaapana.Dicom;
using Kaapana.Dicom.Network.Query;
using static Kaapana.Tests.Dicom.Network.Query.DicomQueryMatchingTests;

namespace Kaapana.Tests.Dicom.Network.Query;

/// <summary>Q/R information models (PS3.4 C.6) and the normalized value forms.</summary>
public class QueryRetrieveModelTests
{
    private static readonly QueryRetrieveInformationModel Patient = QueryRetrieveInformationModel.PatientRoot;
    private static readonly QueryRetrieveInformationModel Study = QueryRetrieveInformationModel.StudyRoot;

    [Theory]
    [InlineData("PATIENT", QueryRetrieveLevel.Patient)]
    [InlineData("STUDY ", QueryRetrieveLevel.Study)]
    [InlineData("SERIES", QueryRetrieveLevel.Series)]
    [InlineData("IMAGE", QueryRetrieveLevel.Image)]
    public void Levels_round_trip_their_codes(string code, QueryRetrieveLevel level)
    {
        Assert.Equal(level, QueryRetrieveLevels.Parse(code));
        Assert.Equal(code.Trim(), level.ToCode());
        Assert.False(QueryRetrieveLevels.TryParse("INSTANCE", out _));
        Assert.False(QueryRetrieveLevels.TryParse("study", out _));
    }

    [Fact]
    public void Sop_classes_identify_model_and_operation()
    {
        Assert.True(QueryRetrieveInformationModel.TryFromSopClassUid("1.2.840.10008.5.1.4.1.2.2.3", out var m, out var op));
        Assert.Same(Study, m);
        Assert.Equal(QueryRetrieveOperation.Get, op);
        Assert.True(QueryRetrieveInformationModel.TryFromSopClassUid(DicomUids.PatientRootQueryRetrieveInformationModelMove, out m, out op));
        Assert.Equal((Patient, QueryRetrieveOperation.Move), (m, op));
        Assert.False(QueryRetrieveInformationModel.TryFromSopClassUid(DicomUids.Verification, out _, out _));
        Assert.Equal([DicomUids.PatientRootQueryRetrieveInformationModelFind, DicomUids.StudyRootQueryRetrieveInformationModelFind],
            QueryRetrieveInformationModel.SopClassUids(QueryRetrieveOperation.Find));
    }

    [Fact]
    public void Study_root_has_no_patient_level_and_keeps_patient_attributes_at_study_level()
    {
        Assert.Equal([QueryRetrieveLevel.Patient, QueryRetrieveLevel.Study, QueryRetrieveLevel.Series, QueryRetrieveLevel.Image], Patient.Levels);
        Assert.False(Study.SupportsLevel(QueryRetrieveLevel.Patient));
        Assert.Equal(QueryRetrieveLevel.Patient, Patient.GetLevelOf(DicomTags.PatientBirthDate));
        Assert.Equal(QueryRetrieveLevel.Study, Study.GetLevelOf(DicomTags.PatientBirthDate));
        Assert.Equal(QueryRetrieveLevel.Series, Study.GetLevelOf(DicomTags.Modality));
        Assert.Null(Study.GetLevelOf(DicomTags.SpecificCharacterSet));
        Assert.Contains(DicomTags.PatientID, Study.GetRequiredKeys(QueryRetrieveLevel.Study));
        Assert.DoesNotContain(DicomTags.PatientID, Patient.GetRequiredKeys(QueryRetrieveLevel.Study));
        Assert.Contains(DicomTags.PatientName, Study.GetKnownKeys(QueryRetrieveLevel.Study));
        Assert.Equal(DicomTags.SeriesInstanceUID, QueryRetrieveLevel.Series.UniqueKey());
        Assert.Throws<ArgumentException>(() => Study.GetRequiredKeys(QueryRetrieveLevel.Patient));
    }

    [Fact]
    public void Find_identifiers_are_checked_against_the_model()
    {
        Assert.Empty(Study.Validate(Ds((DicomTags.QueryRetrieveLevel, "STUDY"), (DicomTags.PatientName, "A*"), (DicomTags.StudyInstanceUID, "")),
            QueryRetrieveOperation.Find));
        Assert.Equal(DicomTags.QueryRetrieveLevel, Study.Validate(Ds((DicomTags.PatientName, "")), QueryRetrieveOperation.Find).Single().Tag);
        Assert.Contains("no PATIENT level", Study.Validate(Ds((DicomTags.QueryRetrieveLevel, "PATIENT")), QueryRetrieveOperation.Find).Single().Message);
        Assert.Contains("not PATIENT", Study.Validate(Ds((DicomTags.QueryRetrieveLevel, "FOO")), QueryRetrieveOperation.Find).Single().Message);

        // A series key at study level does not fit the SOP Class.
        var below = Study.Validate(Ds((DicomTags.QueryRetrieveLevel, "STUDY"), (DicomTags.Modality, "CT")), QueryRetrieveOperation.Find);
        Assert.Equal((DicomTags.Modality, QueryProblemSeverity.Error), (below.Single().Tag, below.Single().Severity));

        // ... but asking for one as a return key only is tolerated (the SCP answers it empty).
        var returnKey = Study.Validate(Ds((DicomTags.QueryRetrieveLevel, "STUDY"), (DicomTags.Modality, "")), QueryRetrieveOperation.Find);
        Assert.Equal((DicomTags.Modality, QueryProblemSeverity.Warning), (returnKey.Single().Tag, returnKey.Single().Severity));

        // Hierarchical search needs the unique keys above the query level; relational search does not.
        var series = Ds((DicomTags.QueryRetrieveLevel, "SERIES"), (DicomTags.Modality, "CT"));
        Assert.Equal(DicomTags.StudyInstanceUID, Study.Validate(series, QueryRetrieveOperation.Find).Single().Tag);
        Assert.Empty(Study.Validate(series, QueryRetrieveOperation.Find, relational: true));
        var patientRootStudy = Ds((DicomTags.QueryRetrieveLevel, "STUDY"), (DicomTags.StudyDate, "2020-"));
        Assert.Equal(DicomTags.PatientID, Patient.Validate(patientRootStudy, QueryRetrieveOperation.Find).Single().Tag);
        Assert.Contains("wildcards", Study.Validate(Ds((DicomTags.QueryRetrieveLevel, "SERIES"), (DicomTags.StudyInstanceUID, "1.2*")),
            QueryRetrieveOperation.Find).Single().Message);
    }

    [Fact]
    public void Retrieve_identifiers_hold_unique_keys_down_to_the_level()
    {
        var ok = Ds((DicomTags.QueryRetrieveLevel, "SERIES"), (DicomTags.StudyInstanceUID, "1.2"), (DicomTags.SeriesInstanceUID, @"1.2.1\1.2.2"));
        Assert.Empty(Study.Validate(ok, QueryRetrieveOperation.Move));
        Assert.NotEmpty(Patient.Validate(ok, QueryRetrieveOperation.Move)); // Patient ID missing

        var listAbove = Ds((DicomTags.QueryRetrieveLevel, "SERIES"), (DicomTags.StudyInstanceUID, @"1.2\1.3"), (DicomTags.SeriesInstanceUID, "1.2.1"));
        Assert.Contains("single value", Study.Validate(listAbove, QueryRetrieveOperation.Get).Single().Message);

        var missing = Study.Validate(Ds((DicomTags.QueryRetrieveLevel, "STUDY")), QueryRetrieveOperation.Get);
        Assert.Equal(DicomTags.StudyInstanceUID, missing.Single().Tag);

        var extra = Study.Validate(Ds((DicomTags.QueryRetrieveLevel, "STUDY"), (DicomTags.StudyInstanceUID, "1.2"), (DicomTags.PatientName, "X")),
            QueryRetrieveOperation.Move);
        Assert.Equal((DicomTags.PatientName, QueryProblemSeverity.Warning), (extra.Single().Tag, extra.Single().Severity));
    }

    // ---- normalized values

    [Theory]
    [InlineData("10", "100000.000000", "105959.999999")]
    [InlineData("1030", "103000.000000", "103059.999999")]
    [InlineData("103015", "103015.000000", "103015.999999")]
    [InlineData("103015.1", "103015.100000", "103015.199999")]
    [InlineData("103015.123456", "103015.123456", "103015.123456")]
    [InlineData("10:30:15", "103015.000000", "103015.999999")]
    [InlineData("235960", "235959.000000", "235959.999999")]
    public void Times_denote_the_interval_of_their_precision(string value, string lower, string upper)
    {
        Assert.True(QueryValues.TryTime(value, out var lo, out var hi));
        Assert.Equal((lower, upper), (lo, hi));
    }

    [Theory]
    [InlineData("1")]
    [InlineData("103")]
    [InlineData("2400")]
    [InlineData("1060")]
    [InlineData("1030.5")]
    [InlineData("103015.1234567")]
    [InlineData("ab")]
    public void Malformed_times_are_refused(string value) => Assert.False(QueryValues.TryTime(value, out _, out _));

    [Theory]
    [InlineData("2020", null, "20200101000000.000000", "20201231235959.999999")]
    [InlineData("202002", null, "20200201000000.000000", "20200229235959.999999")]
    [InlineData("2020021513", null, "20200215130000.000000", "20200215135959.999999")]
    [InlineData("20200215130000.5", null, "20200215130000.500000", "20200215130000.599999")]
    [InlineData("20200215013000+0200", null, "20200214233000.000000", "20200214233000.999999")]
    [InlineData("20200215013000", "+0200", "20200214233000.000000", "20200214233000.999999")]
    [InlineData("20200215013000-0030", "+0200", "20200215020000.000000", "20200215020000.999999")]
    public void Datetimes_denote_their_precision_in_UTC_when_the_offset_is_known(string value, string? offset, string lower, string upper)
    {
        TimeSpan? o = offset is null ? null : QueryValues.TryOffset(offset, out var x) ? x : throw new FormatException();
        Assert.True(QueryValues.TryDateTime(value, o, out var lo, out var hi));
        Assert.Equal((lower, upper), (lo, hi));
    }

    [Theory]
    [InlineData("202")]
    [InlineData("20201")]
    [InlineData("20200230")]
    [InlineData("2020021525")]
    [InlineData("2020.5")]
    [InlineData("20200215+2500")]
    public void Malformed_datetimes_are_refused(string value) => Assert.False(QueryValues.TryDateTime(value, null, out _, out _));

    [Theory]
    [InlineData("20200215", "20200215")]
    [InlineData("2020.02.15", "20200215")]
    public void Dates_normalize_to_eight_digits(string value, string expected)
    {
        Assert.True(QueryValues.TryDate(value, out var d));
        Assert.Equal(expected, d);
        Assert.False(QueryValues.TryDate("20200230", out _));
        Assert.False(QueryValues.TryDate("202002", out _));
    }

    [Theory]
    [InlineData("Doe^John^^^", "Doe^John")]
    [InlineData("Doe^John==", "Doe^John")]
    [InlineData("Doe ^ John ", "Doe^John")]
    [InlineData("=山田^太郎", "=山田^太郎")]
    [InlineData("^^^", "")]
    public void Person_names_normalize_away_empty_trailing_parts(string value, string expected) =>
        Assert.Equal(expected, QueryValues.NormalizePersonName(value));
}
