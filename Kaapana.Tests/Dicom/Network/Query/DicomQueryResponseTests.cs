using Kaapana.Dicom;
using Kaapana.Dicom.Network.Query;
using static Kaapana.Tests.Dicom.Network.Query.DicomQueryMatchingTests;

namespace Kaapana.Tests.Dicom.Network.Query;

/// <summary>Response identifiers (PS3.4 C.4.1.1.3.2) and the expression form a database layer translates.</summary>
public class DicomQueryResponseTests
{
    private static DicomDataset Candidate()
    {
        var ds = Ds(
            (DicomTags.SpecificCharacterSet, "ISO_IR 100"),
            (DicomTags.PatientName, "Müller^Jürgen"),
            (DicomTags.PatientID, "P7"),
            (DicomTags.PatientBirthDate, "19700101"),
            (DicomTags.StudyInstanceUID, "1.2.3"),
            (DicomTags.StudyDescription, "Knee"),
            (DicomTags.InstitutionName, "Hospital"));
        ds.SetSequence(DicomTags.ProcedureCodeSequence,
            Ds((DicomTags.CodeValue, "A1"), (DicomTags.CodingSchemeDesignator, "L"), (DicomTags.CodeMeaning, "Knee MR")),
            Ds((DicomTags.CodeValue, "B2"), (DicomTags.CodingSchemeDesignator, "L"), (DicomTags.CodeMeaning, "Knee CT")));
        return ds;
    }

    [Fact]
    public void Response_holds_exactly_the_requested_keys_level_and_character_set()
    {
        var identifier = Ds(
            (DicomTags.QueryRetrieveLevel, "STUDY"),
            (DicomTags.PatientName, "M*"),
            (DicomTags.StudyInstanceUID, ""),
            (DicomTags.AccessionNumber, ""),
            (DicomTags.StudyDescription, ""));
        var q = DicomQuery.Parse(identifier);
        Assert.Equal(QueryRetrieveLevel.Study, q.Level);
        var candidate = Candidate();
        Assert.True(q.Matches(candidate));
        var r = q.CreateResponse(candidate);

        Assert.Equal(
            [DicomTags.SpecificCharacterSet, DicomTags.AccessionNumber, DicomTags.QueryRetrieveLevel, DicomTags.StudyDescription,
             DicomTags.PatientName, DicomTags.StudyInstanceUID],
            r.Select(e => e.Tag));
        Assert.Equal("ISO_IR 100", r.GetString(DicomTags.SpecificCharacterSet));
        Assert.Equal("STUDY", r.GetString(DicomTags.QueryRetrieveLevel));
        Assert.Equal("Müller^Jürgen", r.GetString(DicomTags.PatientName));
        Assert.Equal("1.2.3", r.GetString(DicomTags.StudyInstanceUID));
        Assert.Equal("Knee", r.GetString(DicomTags.StudyDescription));
        var accession = Assert.IsType<DicomValueElement>(r[DicomTags.AccessionNumber]);
        Assert.True(accession.IsEmpty); // asked for, not in the candidate: present with zero length
        Assert.Equal(DicomVR.SH, accession.VR);
        Assert.False(r.Contains(DicomTags.InstitutionName));
        Assert.False(r.Contains(DicomTags.PatientBirthDate));
    }

    [Fact]
    public void Response_survives_encoding_in_the_candidates_character_set()
    {
        var q = DicomQuery.Parse(Ds((DicomTags.QueryRetrieveLevel, "PATIENT"), (DicomTags.PatientName, "")));
        var r = q.CreateResponse(Candidate());
        using var ms = new MemoryStream();
        DicomWriter.WriteDataset(ms, r, DicomTransferSyntax.ImplicitVRLittleEndian);
        ms.Position = 0;
        var back = DicomReader.ReadDataset(ms, DicomTransferSyntax.ImplicitVRLittleEndian);
        Assert.Equal("Müller^Jürgen", back.GetString(DicomTags.PatientName));
    }

    [Fact]
    public void Character_set_inherited_by_an_item_candidate_is_stated_in_the_response()
    {
        var parent = new DicomDataset().Set(DicomTags.SpecificCharacterSet, "ISO_IR 100");
        var item = new DicomDataset();
        parent.SetSequence(DicomTags.ReferencedPatientSequence, item);
        item.Set(DicomTags.PatientName, "Ström"); // encoded in the parent's ISO_IR 100
        Assert.False(item.Contains(DicomTags.SpecificCharacterSet));
        var r = DicomQuery.Parse(Ds((DicomTags.PatientName, ""))).CreateResponse(item);
        Assert.Equal("ISO_IR 100", r.GetString(DicomTags.SpecificCharacterSet));
        Assert.Equal("Ström", r.GetString(DicomTags.PatientName));
    }

    [Fact]
    public void Plain_ASCII_candidates_get_no_character_set()
    {
        var r = DicomQuery.Parse(Ds((DicomTags.PatientID, ""))).CreateResponse(Ds((DicomTags.PatientID, "X")));
        Assert.False(r.Contains(DicomTags.SpecificCharacterSet));
        Assert.False(r.Contains(DicomTags.QueryRetrieveLevel)); // not asked for (QIDO-style identifier)
    }

    [Fact]
    public void Sequence_keys_return_the_matching_items_reduced_to_the_item_keys()
    {
        var identifier = new DicomDataset().SetSequence(DicomTags.ProcedureCodeSequence,
            Ds((DicomTags.CodeValue, "B2"), (DicomTags.CodeMeaning, ""), (DicomTags.CodingSchemeVersion, "")));
        var q = DicomQuery.Parse(identifier);
        var r = q.CreateResponse(Candidate());
        var item = Assert.Single(r.GetSequence(DicomTags.ProcedureCodeSequence).Items);
        Assert.Equal([DicomTags.CodeValue, DicomTags.CodingSchemeVersion, DicomTags.CodeMeaning], item.Select(e => e.Tag));
        Assert.Equal("Knee CT", item.GetString(DicomTags.CodeMeaning));
        Assert.Equal("", item.GetString(DicomTags.CodingSchemeVersion));
    }

    [Fact]
    public void Universal_sequence_keys_return_every_item_reduced_or_whole()
    {
        var reduced = new DicomDataset().SetSequence(DicomTags.ProcedureCodeSequence, Ds((DicomTags.CodeValue, "")));
        var r = DicomQuery.Parse(reduced).CreateResponse(Candidate());
        Assert.Equal(["A1", "B2"], r.GetSequence(DicomTags.ProcedureCodeSequence).Items.Select(i => i.GetString(DicomTags.CodeValue)));
        Assert.All(r.GetSequence(DicomTags.ProcedureCodeSequence).Items, i => Assert.Equal(1, i.Count));

        var whole = new DicomDataset().SetSequence(DicomTags.ProcedureCodeSequence);
        var w = DicomQuery.Parse(whole).CreateResponse(Candidate());
        Assert.All(w.GetSequence(DicomTags.ProcedureCodeSequence).Items, i => Assert.Equal(3, i.Count));

        var missing = DicomQuery.Parse(whole).CreateResponse(new DicomDataset());
        Assert.Empty(missing.GetSequence(DicomTags.ProcedureCodeSequence).Items);
    }

    [Fact]
    public void Keys_expose_what_a_database_layer_needs()
    {
        var identifier = new DicomDataset()
            .Set(DicomTags.QueryRetrieveLevel, "SERIES")
            .Set(DicomTags.PatientName, "doe^j*")
            .Set(DicomTags.StudyInstanceUID, "1.2.3")
            .Set(DicomTags.Modality, "CT", "MR")
            .Set(DicomTags.SeriesDescription, "50%_off*")
            .Set(DicomTags.SeriesDate, "20200101-20201231")
            .Set(DicomTags.SeriesTime, "")
            .Set(DicomTags.SeriesInstanceUID, "1.2.3.4", "1.2.3.5");
        var q = DicomQuery.Parse(identifier);
        Assert.Equal(QueryRetrieveLevel.Series, q.Level);
        var byTag = q.Keys.ToDictionary(k => k.Tag);

        var pn = byTag[DicomTags.PatientName];
        Assert.Equal((QueryMatchKind.Wildcard, true), (pn.Kind, pn.IgnoreCase));
        var like = Assert.IsType<WildcardTerm>(pn.Terms.Single());
        Assert.Equal("DOE^J*", like.Pattern);
        Assert.Equal("DOE^J%", like.ToSqlLike());
        Assert.Equal("DOE^J", like.LiteralPrefix);

        Assert.Equal(@"50\%\_off%", ((WildcardTerm)byTag[DicomTags.SeriesDescription].Terms.Single()).ToSqlLike());
        Assert.Equal("a!!b!%%", new WildcardTerm("a!b%*").ToSqlLike('!'));

        Assert.Equal(QueryMatchKind.MultipleValues, byTag[DicomTags.Modality].Kind);
        Assert.Equal(QueryMatchKind.ListOfUid, byTag[DicomTags.SeriesInstanceUID].Kind);
        Assert.Equal(QueryMatchKind.SingleValue, byTag[DicomTags.StudyInstanceUID].Kind);
        Assert.Equal(new RangeTerm("20200101", "20201231", QueryRangeFormat.Date), byTag[DicomTags.SeriesDate].Terms.Single());
        Assert.Equal(QueryMatchKind.Universal, byTag[DicomTags.SeriesTime].Kind);
        Assert.DoesNotContain(q.Keys, k => k.Tag == DicomTags.QueryRetrieveLevel);
        Assert.Equal(6, q.MatchingKeys.Count());
        Assert.Contains("Modality MultipleValues: = 'CT' | = 'MR'", q.ToString());
    }
}
