using Kaapana.Core.Archive.Browse;

namespace Kaapana.Tests.Web;

public sealed class BrowseFilterTests
{
    [Fact]
    public void Toggle_adds_values_of_one_keyword_as_an_or_set_and_removes_them_again()
    {
        var f = new BrowseFilter().Toggle("Modality", "CT").Toggle("Modality", "MR").Toggle("BodyPartExamined", "CHEST");
        Assert.Equal(["CT", "MR"], f.Facets["Modality"]);
        Assert.Equal(["CHEST"], f.Facets["BodyPartExamined"]);
        f = f.Toggle("Modality", "CT").Toggle("Modality", "MR");
        Assert.False(f.Facets.ContainsKey("Modality"));
        Assert.True(f.HasValue("BodyPartExamined", "CHEST"));
    }

    [Fact]
    public void Url_round_trip_keeps_every_part_including_escaped_values()
    {
        var f = new BrowseFilter
        {
            Project = "lung study", Text = "Müller & co", StudyDateFrom = "20200101", StudyDateTo = "20201231",
            ArrivedOn = new DateOnly(2026, 11, 27), Sort = BrowseSort.Patient, Descending = false,
        }.Toggle("Modality", "CT").Toggle("Modality", "MR").Toggle("ProtocolName", "A=B&C").Toggle("SliceThickness", "1.5");
        var query = f.ToQueryString();
        var back = BrowseFilter.Parse("?" + query);
        Assert.Equal(f, back);
        Assert.Equal(query, back.ToQueryString());
        Assert.Contains("f.Modality=CT&f.Modality=MR", query);
        Assert.Equal("lung study", back.Project);
        Assert.Equal("Müller & co", back.Text);
        Assert.Equal(["A=B&C"], back.Facets["ProtocolName"]);
    }

    [Fact]
    public void Defaults_give_an_empty_query_and_malformed_parts_are_ignored()
    {
        Assert.Equal("", new BrowseFilter().ToQueryString());
        var f = BrowseFilter.Parse("from=2020-13-45&to=2021-02-03&sort=nonsense&arrived=yesterday&f.=x&zzz=1&f.Modality=");
        Assert.Null(f.StudyDateFrom);
        Assert.Equal("20210203", f.StudyDateTo);
        Assert.Equal(BrowseSort.StudyDate, f.Sort);
        Assert.Null(f.ArrivedOn);
        Assert.Empty(f.Facets);
    }

    [Fact]
    public void Facet_counts_use_the_filter_without_the_keywords_own_values()
    {
        var f = new BrowseFilter().Toggle("Modality", "CT").Toggle("Manufacturer", "X");
        var forModality = f.ForFacet("Modality");
        Assert.False(forModality.Facets.ContainsKey("Modality"));
        Assert.True(forModality.HasValue("Manufacturer", "X"));
    }

    [Fact]
    public void Keywords_resolve_to_columns_or_attribute_rows_and_unknown_ones_are_refused()
    {
        Assert.NotNull(BrowseKeywords.Resolve("Modality")!.Column);
        Assert.NotNull(BrowseKeywords.Resolve("SliceThickness")!.AttributeTag);
        Assert.Null(BrowseKeywords.Resolve("NoSuchKeyword"));
        Assert.Null(BrowseKeywords.Resolve("ReferencedImageSequence")); // a sequence
        Assert.Null(BrowseKeywords.Resolve("SOPInstanceUID")); // instance level
        Assert.Contains("SliceThickness", BrowseKeywords.Suggest("slicethick"));
    }
}
