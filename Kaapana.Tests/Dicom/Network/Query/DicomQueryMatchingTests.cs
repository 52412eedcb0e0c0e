using Kaapana.Dicom;
using Kaapana.Dicom.Network.Query;

namespace Kaapana.Tests.Dicom.Network.Query;

/// <summary>PS3.4 C.2.2.2 attribute matching, one kind at a time.</summary>
public class DicomQueryMatchingTests
{
    internal static DicomDataset Ds(params (DicomTag Tag, string Value)[] elements)
    {
        var ds = new DicomDataset();
        foreach (var (tag, value) in elements) ds.Set(tag, value);
        return ds;
    }

    private static bool Match(DicomDataset identifier, DicomDataset candidate, QueryMatchOptions? options = null) =>
        DicomQuery.Matches(identifier, candidate, options);

    private static readonly DicomDataset Study = Ds(
        (DicomTags.PatientName, "Doe^John^^^"),
        (DicomTags.PatientID, "P001"),
        (DicomTags.StudyDescription, "CT Head w/o contrast"),
        (DicomTags.StudyDate, "20200115"),
        (DicomTags.StudyTime, "143015.25"),
        (DicomTags.AccessionNumber, "A-17"),
        (DicomTags.StudyInstanceUID, "1.2.826.0.1.3680043.2.1125.1"),
        (DicomTags.ReferringPhysicianName, ""));

    static DicomQueryMatchingTests() => Study.Set(DicomTags.ModalitiesInStudy, "CT", "SR");

    // ---- universal

    [Fact]
    public void Empty_keys_match_everything_also_when_the_candidate_lacks_the_attribute()
    {
        var id = Ds((DicomTags.PatientName, ""), (DicomTags.InstitutionName, ""), (DicomTags.ReferringPhysicianName, ""));
        Assert.True(Match(id, Study));
        var q = DicomQuery.Parse(id);
        Assert.All(q.Keys, k => Assert.Equal(QueryMatchKind.Universal, k.Kind));
        Assert.Empty(q.MatchingKeys);
    }

    [Theory]
    [InlineData("*")]
    [InlineData("**")]
    public void A_key_of_only_stars_is_universal(string value)
    {
        var q = DicomQuery.Parse(Ds((DicomTags.InstitutionName, value)));
        Assert.Equal(QueryMatchKind.Universal, q.Keys.Single().Kind);
        Assert.True(q.Matches(Study)); // InstitutionName absent from the candidate
    }

    [Theory]
    [InlineData("^")]
    [InlineData("^^^^")]
    [InlineData("==")]
    public void A_person_name_of_only_delimiters_is_universal(string value)
    {
        var q = DicomQuery.Parse(Ds((DicomTags.ReferringPhysicianName, value)));
        Assert.Equal(QueryMatchKind.Universal, q.Keys.Single().Kind);
        Assert.True(q.Matches(Study));
    }

    // ---- single value

    [Theory]
    [InlineData("CT Head w/o contrast", true)]
    [InlineData("ct head w/o contrast", false)] // only PN may ignore case
    [InlineData("CT Head", false)]
    [InlineData(" CT Head w/o contrast ", true)] // LO padding is not significant
    public void Single_value_matching_is_exact_and_case_sensitive_outside_PN(string key, bool expected) =>
        Assert.Equal(expected, Match(Ds((DicomTags.StudyDescription, key)), Study));

    [Fact]
    public void A_non_universal_key_never_matches_a_missing_or_empty_attribute()
    {
        Assert.False(Match(Ds((DicomTags.InstitutionName, "x")), Study));
        Assert.False(Match(Ds((DicomTags.ReferringPhysicianName, "Smith")), Study));
        Assert.False(Match(Ds((DicomTags.ReferringPhysicianName, "*a*")), Study));
    }

    [Theory]
    [InlineData("Doe^John", true)]
    [InlineData("DOE^JOHN", true)]
    [InlineData("doe^john^^", true)]
    [InlineData("Doe", false)]
    [InlineData("Doe^Jane", false)]
    public void Person_names_ignore_case_and_trailing_empty_components_by_default(string key, bool expected)
    {
        var q = DicomQuery.Parse(Ds((DicomTags.PatientName, key)));
        Assert.True(q.Keys.Single().IgnoreCase);
        Assert.Equal(expected, q.Matches(Study));
    }

    [Fact]
    public void Person_name_case_sensitivity_is_configurable()
    {
        var strict = new QueryMatchOptions { PersonNameCaseInsensitive = false };
        Assert.True(Match(Ds((DicomTags.PatientName, "Doe^John")), Study, strict));
        Assert.False(Match(Ds((DicomTags.PatientName, "DOE^JOHN")), Study, strict));
        Assert.False(Match(Ds((DicomTags.PatientName, "DOE*")), Study, strict));
        Assert.True(Match(Ds((DicomTags.PatientName, "Doe*")), Study, strict));
    }

    [Fact]
    public void Person_name_keys_match_the_whole_name_or_any_component_group()
    {
        var candidate = new DicomDataset().Set(DicomTags.SpecificCharacterSet, "ISO_IR 192")
            .Set(DicomTags.PatientName, "Yamada^Tarou=山田^太郎=やまだ^たろう");
        Assert.True(Match(Ds((DicomTags.PatientName, "Yamada^Tarou")), candidate));
        Assert.True(Match(Ds((DicomTags.PatientName, "山田^太郎")), candidate));
        Assert.True(Match(Ds((DicomTags.PatientName, "山田*")), candidate));
        Assert.True(Match(Ds((DicomTags.PatientName, "Yamada^Tarou=山田^太郎=やまだ^たろう")), candidate));
        Assert.False(Match(Ds((DicomTags.PatientName, "Yamada^Tarou=山田^花子")), candidate));
    }

    [Theory]
    [InlineData("17", true)]
    [InlineData("017", true)]
    [InlineData("17.0", true)]
    [InlineData("18", false)]
    public void Numeric_strings_compare_by_value(string key, bool expected)
    {
        var candidate = new DicomDataset().Set(DicomTags.SeriesNumber, "17");
        Assert.Equal(expected, Match(Ds((DicomTags.SeriesNumber, key)), candidate));
    }

    [Fact]
    public void Binary_numeric_keys_compare_by_value()
    {
        var candidate = new DicomDataset().Set<ushort>(DicomTags.Rows, 512);
        Assert.True(Match(new DicomDataset().Set<ushort>(DicomTags.Rows, 512), candidate));
        Assert.False(Match(new DicomDataset().Set<ushort>(DicomTags.Rows, 256), candidate));
        Assert.True(Match(new DicomDataset().SetEmpty(DicomTags.Rows), candidate));
    }

    [Fact]
    public void Any_value_of_a_multi_valued_attribute_can_match()
    {
        Assert.True(Match(Ds((DicomTags.ModalitiesInStudy, "SR")), Study));
        Assert.True(Match(Ds((DicomTags.ModalitiesInStudy, "CT")), Study));
        Assert.False(Match(Ds((DicomTags.ModalitiesInStudy, "MR")), Study));
        Assert.True(Match(Ds((DicomTags.ModalitiesInStudy, "S?")), Study));
    }

    // ---- wildcards

    [Theory]
    [InlineData("CT*", true)]
    [InlineData("*contrast", true)]
    [InlineData("*Head*", true)]
    [InlineData("CT?Head*", true)]
    [InlineData("C?", false)]
    [InlineData("*head*", false)]
    [InlineData("CT Head w/o contras?", true)]
    [InlineData("CT Head w/o contras??", false)]
    [InlineData("*H*d*w*/*t", true)]
    public void Star_matches_any_run_and_question_mark_one_character(string pattern, bool expected)
    {
        var q = DicomQuery.Parse(Ds((DicomTags.StudyDescription, pattern)));
        Assert.Equal(QueryMatchKind.Wildcard, q.Keys.Single().Kind);
        Assert.Equal(expected, q.Matches(Study));
    }

    [Fact]
    public void Question_mark_matches_one_character_outside_the_BMP_too()
    {
        var candidate = new DicomDataset().Set(DicomTags.SpecificCharacterSet, "ISO_IR 192").Set(DicomTags.StudyDescription, "A𝄞B");
        Assert.True(Match(new DicomDataset().Set(DicomTags.SpecificCharacterSet, "ISO_IR 192").Set(DicomTags.StudyDescription, "A?B"), candidate));
        Assert.False(Match(new DicomDataset().Set(DicomTags.SpecificCharacterSet, "ISO_IR 192").Set(DicomTags.StudyDescription, "A??B"), candidate));
    }

    [Fact]
    public void Person_name_wildcards_span_components_and_ignore_case()
    {
        Assert.True(Match(Ds((DicomTags.PatientName, "doe*")), Study));
        Assert.True(Match(Ds((DicomTags.PatientName, "D?E^J*")), Study));
        Assert.True(Match(Ds((DicomTags.PatientName, "*^john")), Study));
        Assert.False(Match(Ds((DicomTags.PatientName, "Smith*")), Study));
    }

    [Fact]
    public void Wildcards_are_literal_characters_in_UIDs()
    {
        var q = DicomQuery.Parse(Ds((DicomTags.StudyInstanceUID, "1.2.826.*")));
        Assert.Equal(QueryMatchKind.SingleValue, q.Keys.Single().Kind);
        Assert.False(q.Matches(Study));
    }

    [Fact]
    public void Wildcards_in_dates_are_rejected()
    {
        var ex = Assert.Throws<DicomQueryException>(() => DicomQuery.Parse(Ds((DicomTags.StudyDate, "2020*"))));
        Assert.Equal(DicomTags.StudyDate, ex.Tag);
    }

    // ---- list of UIDs and multiple values

    [Fact]
    public void List_of_UID_matching()
    {
        var q = DicomQuery.Parse(Ds((DicomTags.StudyInstanceUID, @"1.2.3\1.2.826.0.1.3680043.2.1125.1\1.2.4")));
        var key = q.Keys.Single();
        Assert.Equal(QueryMatchKind.ListOfUid, key.Kind);
        Assert.Equal(["1.2.3", "1.2.826.0.1.3680043.2.1125.1", "1.2.4"], key.Terms.Cast<ValueTerm>().Select(t => t.Value));
        Assert.True(q.Matches(Study));
        Assert.False(DicomQuery.Matches(Ds((DicomTags.StudyInstanceUID, @"1.2.3\1.2.4")), Study));
    }

    [Fact]
    public void Several_values_of_a_non_UID_key_match_any_of_them()
    {
        var candidate = Ds((DicomTags.Modality, "MR"));
        var q = DicomQuery.Parse(Ds((DicomTags.Modality, @"CT\MR")));
        Assert.Equal(QueryMatchKind.MultipleValues, q.Keys.Single().Kind);
        Assert.True(q.Matches(candidate));
        Assert.False(DicomQuery.Matches(Ds((DicomTags.Modality, @"CT\US")), candidate));
        Assert.True(DicomQuery.Matches(Ds((DicomTags.Modality, @"CT\M?")), candidate));
        Assert.Throws<DicomQueryException>(() =>
            DicomQuery.Parse(Ds((DicomTags.Modality, @"CT\MR")), new QueryMatchOptions { MultipleValueMatching = false }));
    }

    [Fact]
    public void Backslash_is_an_ordinary_character_in_single_valued_text()
    {
        var candidate = Ds((DicomTags.PatientComments, @"left\right"));
        var q = DicomQuery.Parse(Ds((DicomTags.PatientComments, @"left\right")));
        Assert.Equal(QueryMatchKind.SingleValue, q.Keys.Single().Kind);
        Assert.True(q.Matches(candidate));
    }

    // ---- ranges

    [Theory]
    [InlineData("20200101-20200131", true)]
    [InlineData("20200115-20200115", true)]
    [InlineData("20200116-20200131", false)]
    [InlineData("-20200115", true)]
    [InlineData("-20200114", false)]
    [InlineData("20200115-", true)]
    [InlineData("20200116-", false)]
    [InlineData("20200115", true)]
    [InlineData("20200114", false)]
    [InlineData("2019.12.01-2020.01.31", true)]
    public void Date_ranges_are_inclusive_and_may_be_open(string key, bool expected) =>
        Assert.Equal(expected, Match(Ds((DicomTags.StudyDate, key)), Study));

    [Fact]
    public void Date_range_keys_report_their_bounds()
    {
        var key = DicomQuery.Parse(Ds((DicomTags.StudyDate, "20200101-"))).Keys.Single();
        Assert.Equal(QueryMatchKind.Range, key.Kind);
        var range = Assert.IsType<RangeTerm>(key.Terms.Single());
        Assert.Equal(("20200101", null, QueryRangeFormat.Date), (range.Lower, range.Upper, range.Format));

        var single = DicomQuery.Parse(Ds((DicomTags.StudyDate, "20200101"))).Keys.Single();
        Assert.Equal(QueryMatchKind.SingleValue, single.Kind);
        Assert.Equal(new RangeTerm("20200101", "20200101", QueryRangeFormat.Date), single.Terms.Single());
    }

    [Fact]
    public void An_open_range_on_both_sides_is_universal() =>
        Assert.Equal(QueryMatchKind.Universal, DicomQuery.Parse(Ds((DicomTags.StudyDate, "-"))).Keys.Single().Kind);

    [Theory]
    [InlineData("2020011")]
    [InlineData("20201301")]
    [InlineData("20200101-2020")]
    [InlineData("20200101-20200102-20200103")]
    [InlineData("yesterday")]
    public void Malformed_dates_are_rejected_naming_the_key(string key)
    {
        var ex = Assert.Throws<DicomQueryException>(() => DicomQuery.Parse(Ds((DicomTags.StudyDate, key))));
        Assert.Equal(DicomTags.StudyDate, ex.Tag);
    }

    [Theory]
    [InlineData("1400-1500", true)]
    [InlineData("14-14", true)] // an hour covers 14:00:00-14:59:59.999999
    [InlineData("1430-", true)]
    [InlineData("-1430", true)] // the minute 14:30 includes 14:30:15.25
    [InlineData("-1429", false)]
    [InlineData("143016-", false)]
    [InlineData("143015.25", true)]
    [InlineData("143015.2", true)] // a tenth of a second covers .2-.299999
    [InlineData("143015.3", false)]
    [InlineData("14", true)]
    [InlineData("1431", false)]
    [InlineData("14:30:15-14:30:16", true)] // ACR-NEMA form
    public void Time_ranges_cover_the_precision_of_their_bounds(string key, bool expected) =>
        Assert.Equal(expected, Match(Ds((DicomTags.StudyTime, key)), Study));

    [Fact]
    public void A_time_range_whose_start_is_after_its_end_matches_nothing()
    {
        // PS3.4 defines the range as the times between the two, inclusive; 2300-0100 is therefore empty, not midnight-crossing.
        Assert.False(Match(Ds((DicomTags.StudyTime, "2300-0100")), Ds((DicomTags.StudyTime, "233000"))));
        Assert.False(Match(Ds((DicomTags.StudyTime, "2300-0100")), Ds((DicomTags.StudyTime, "003000"))));
    }

    [Theory]
    [InlineData("2020", true)]
    [InlineData("202001", true)]
    [InlineData("202002", false)]
    [InlineData("20200115143015", true)]
    [InlineData("2020011514-2020011515", true)]
    [InlineData("20200115150000-", false)]
    [InlineData("-20200115143015.25", true)]
    public void Datetime_keys_cover_their_precision(string key, bool expected)
    {
        var candidate = Ds((DicomTags.AcquisitionDateTime, "20200115143015.25"));
        Assert.Equal(expected, Match(Ds((DicomTags.AcquisitionDateTime, key)), candidate));
    }

    [Fact]
    public void Datetime_offsets_are_compared_in_UTC()
    {
        var candidate = Ds((DicomTags.AcquisitionDateTime, "20200115113000+0000"));
        // 12:00+0100 .. 13:00+0100 is 11:00Z .. 12:00Z.
        Assert.True(Match(Ds((DicomTags.AcquisitionDateTime, "20200115120000+0100-20200115130000+0100")), candidate));
        Assert.False(Match(Ds((DicomTags.AcquisitionDateTime, "20200115120000-20200115130000")), candidate));
        // A negative offset is part of the value, not a range separator.
        var single = DicomQuery.Parse(Ds((DicomTags.AcquisitionDateTime, "20200115063000-0500"))).Keys.Single();
        Assert.Equal(QueryMatchKind.SingleValue, single.Kind);
        Assert.True(DicomQuery.Parse(Ds((DicomTags.AcquisitionDateTime, "20200115063000-0500"))).Matches(candidate));
    }

    [Fact]
    public void Timezone_offset_from_UTC_applies_to_datetimes_without_their_own_offset()
    {
        var candidate = Ds((DicomTags.AcquisitionDateTime, "20200115123000"), (DicomTags.TimezoneOffsetFromUTC, "+0100")); // 11:30Z
        Assert.True(Match(Ds((DicomTags.AcquisitionDateTime, "20200115110000+0000-20200115120000+0000")), candidate));
        var identifier = Ds((DicomTags.AcquisitionDateTime, "20200115060000-20200115070000"), (DicomTags.TimezoneOffsetFromUTC, "-0500"));
        Assert.True(Match(identifier, candidate));
        Assert.Equal(QueryMatchKind.Universal, DicomQuery.Parse(identifier)[DicomTags.TimezoneOffsetFromUTC]!.Kind);
    }

    [Fact]
    public void Date_and_time_ranges_are_independent_unless_combined_matching_was_negotiated()
    {
        var identifier = Ds((DicomTags.StudyDate, "20200114-20200116"), (DicomTags.StudyTime, "1500-1000"));
        // Independent: 14:30 is not in the (empty) time range 15:00..10:00.
        Assert.False(Match(identifier, Study));
        // Combined: 2020-01-14 15:00 .. 2020-01-16 10:00 contains 2020-01-15 14:30.
        var combined = new QueryMatchOptions { CombinedDateTimeMatching = true };
        var q = DicomQuery.Parse(identifier, combined);
        Assert.True(q.Matches(Study));
        var date = q[DicomTags.StudyDate]!;
        Assert.Equal(new RangeTerm("20200114150000.000000", "20200116100059.999999", QueryRangeFormat.DateTime) { TimeTag = DicomTags.StudyTime },
            date.Terms.Single());
        Assert.Equal(QueryMatchKind.Universal, q[DicomTags.StudyTime]!.Kind);

        Assert.False(Match(Ds((DicomTags.StudyDate, "20200115-20200116"), (DicomTags.StudyTime, "1500-1000")), Study, combined));
        Assert.True(Match(Ds((DicomTags.StudyDate, "20200115"), (DicomTags.StudyTime, "1400-1500")), Study, combined));
        Assert.True(Match(Ds((DicomTags.StudyDate, "-20200115"), (DicomTags.StudyTime, "-1431")), Study, combined));
        Assert.False(Match(Ds((DicomTags.StudyDate, "20200115-"), (DicomTags.StudyTime, "1431-")), Study, combined));
    }

    [Fact]
    public void Combined_matching_treats_a_missing_time_as_the_whole_day()
    {
        var combined = new QueryMatchOptions { CombinedDateTimeMatching = true };
        var identifier = Ds((DicomTags.StudyDate, "20200115-"), (DicomTags.StudyTime, "1200-"));
        Assert.True(Match(identifier, Ds((DicomTags.StudyDate, "20200115")), combined));
        Assert.False(Match(identifier, Ds((DicomTags.StudyDate, "20200114")), combined));
        Assert.False(Match(identifier, Ds((DicomTags.StudyTime, "1300")), combined));
    }

    // ---- empty value matching

    [Fact]
    public void Two_double_quotes_match_only_empty_or_absent_values()
    {
        var q = DicomQuery.Parse(Ds((DicomTags.ReferringPhysicianName, "\"\"")));
        Assert.Equal(QueryMatchKind.EmptyValue, q.Keys.Single().Kind);
        Assert.True(q.Matches(Study));
        Assert.True(q.Matches(new DicomDataset()));
        Assert.False(q.Matches(Ds((DicomTags.ReferringPhysicianName, "Smith"))));
    }

    // ---- sequences

    private static DicomDataset StudyWithRequests()
    {
        var ds = Study.Clone();
        ds.SetSequence(DicomTags.RequestAttributesSequence,
            Ds((DicomTags.RequestedProcedureID, "RP1"), (DicomTags.ScheduledProcedureStepID, "S1"), (DicomTags.RequestedProcedureDescription, "first")),
            Ds((DicomTags.RequestedProcedureID, "RP2"), (DicomTags.ScheduledProcedureStepID, "S2"), (DicomTags.RequestedProcedureDescription, "second")));
        return ds;
    }

    [Fact]
    public void Sequence_keys_match_when_any_item_matches_all_item_keys()
    {
        var candidate = StudyWithRequests();
        DicomDataset Key(string rp, string sps) => new DicomDataset().SetSequence(DicomTags.RequestAttributesSequence,
            Ds((DicomTags.RequestedProcedureID, rp), (DicomTags.ScheduledProcedureStepID, sps)));
        var q = DicomQuery.Parse(Key("RP2", "S*"));
        Assert.Equal(QueryMatchKind.Sequence, q.Keys.Single().Kind);
        Assert.Equal(2, q.Keys.Single().ItemKeys.Count);
        Assert.True(q.Matches(candidate));
        Assert.True(DicomQuery.Matches(Key("RP1", "S1"), candidate));
        Assert.False(DicomQuery.Matches(Key("RP1", "S2"), candidate)); // both keys must hold in the same item
        Assert.False(DicomQuery.Matches(Key("RP1", ""), Study)); // no sequence at all
        Assert.True(DicomQuery.Matches(Key("", ""), Study)); // only return keys: universal
    }

    [Fact]
    public void A_sequence_key_with_several_items_is_rejected() =>
        Assert.Throws<DicomQueryException>(() => DicomQuery.Parse(
            new DicomDataset().SetSequence(DicomTags.RequestAttributesSequence, new DicomDataset(), new DicomDataset())));

    // ---- configuration and return-only keys

    [Fact]
    public void Unsupported_keys_are_treated_as_return_keys()
    {
        var options = new QueryMatchOptions { IsKeySupported = t => t != DicomTags.StudyDescription };
        var identifier = Ds((DicomTags.StudyDescription, "MR*"), (DicomTags.PatientID, "P001"));
        Assert.False(Match(identifier, Study));
        Assert.True(Match(identifier, Study, options));
    }

    [Fact]
    public void Retrieve_AE_title_and_instance_availability_are_never_matched_on()
    {
        var identifier = Ds((DicomTags.RetrieveAETitle, "OTHER"), (DicomTags.InstanceAvailability, "OFFLINE"));
        Assert.True(Match(identifier, Study));
    }

    [Fact]
    public void Key_values_are_decoded_with_the_identifier_character_set()
    {
        var candidate = new DicomDataset().Set(DicomTags.SpecificCharacterSet, "ISO_IR 100").Set(DicomTags.PatientName, "Müller^Jürgen");
        var identifier = new DicomDataset().Set(DicomTags.SpecificCharacterSet, "ISO_IR 192").Set(DicomTags.PatientName, "MÜLLER*");
        Assert.True(Match(identifier, candidate));
        Assert.False(Match(new DicomDataset().Set(DicomTags.SpecificCharacterSet, "ISO_IR 192").Set(DicomTags.PatientName, "Muller*"), candidate));
    }
}
