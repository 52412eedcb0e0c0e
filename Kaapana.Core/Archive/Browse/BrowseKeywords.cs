using System.Linq.Expressions;
using Kaapana.Core.Archive.Index;
using Kaapana.Dicom;

namespace Kaapana.Core.Archive.Browse;

/// <summary>Where a keyword's value lives in the index: a column (series, study or patient level) or a <see cref="SeriesAttribute"/> row.</summary>
public sealed record KeywordSource(string Keyword, Expression<Func<Series, string?>>? Column, int? AttributeTag, bool IsTag = false);

/// <summary>
/// Resolves DICOM keywords for facet filters. The attributes the index keeps as columns (<see cref="IndexAttributes.ColumnTags"/>)
/// are read from their columns; every other keyword from the per-series attribute rows, by tag.
/// </summary>
public static class BrowseKeywords
{
    /// <summary>The pseudo-keyword of the series' free-text tags (no DICOM keyword is spelled so), filterable like any other.</summary>
    public const string Tags = "Tags";

    private static readonly Dictionary<string, Expression<Func<Series, string?>>> Columns = new(StringComparer.Ordinal)
    {
        ["PatientID"] = x => x.Study.Patient.PatientID,
        ["IssuerOfPatientID"] = x => x.Study.Patient.IssuerOfPatientID,
        ["PatientName"] = x => x.Study.Patient.PatientName,
        ["PatientBirthDate"] = x => x.Study.Patient.PatientBirthDate,
        ["PatientSex"] = x => x.Study.Patient.PatientSex,
        ["StudyInstanceUID"] = x => x.Study.StudyInstanceUID,
        ["StudyDate"] = x => x.Study.StudyDate,
        ["StudyTime"] = x => x.Study.StudyTime,
        ["AccessionNumber"] = x => x.Study.AccessionNumber,
        ["StudyID"] = x => x.Study.StudyID,
        ["StudyDescription"] = x => x.Study.StudyDescription,
        ["ReferringPhysicianName"] = x => x.Study.ReferringPhysicianName,
        ["SeriesInstanceUID"] = x => x.SeriesInstanceUID,
        ["Modality"] = x => x.Modality,
        ["SeriesNumber"] = x => x.SeriesNumber.HasValue ? x.SeriesNumber.Value.ToString() : null,
        ["SeriesDescription"] = x => x.SeriesDescription,
        ["BodyPartExamined"] = x => x.BodyPartExamined,
        ["Manufacturer"] = x => x.Manufacturer,
        ["ManufacturerModelName"] = x => x.ManufacturerModelName,
        ["SeriesDate"] = x => x.SeriesDate,
        ["SeriesTime"] = x => x.SeriesTime,
    };

    /// <summary>Keywords with columns, most useful first: offered before dictionary keywords in the keyword picker.</summary>
    public static readonly IReadOnlyList<string> Common =
    [
        Tags, "Modality", "BodyPartExamined", "Manufacturer", "ManufacturerModelName", "StudyDescription", "SeriesDescription", "PatientSex",
        "PatientID", "PatientName", "AccessionNumber", "StudyDate", "SeriesDate", "SeriesNumber", "ReferringPhysicianName",
        "InstitutionName", "StationName", "SliceThickness", "ProtocolName", "ImageType", "ConvolutionKernel", "KVP", "MagneticFieldStrength",
    ];

    /// <summary>The source of <paramref name="keyword"/>, or null when it names no public attribute the index can answer.</summary>
    public static KeywordSource? Resolve(string keyword)
    {
        if (keyword == Tags) return new KeywordSource(keyword, null, null, IsTag: true);
        if (Columns.TryGetValue(keyword, out var column)) return new KeywordSource(keyword, column, null);
        if (!DicomDictionary.TryGetTag(keyword, out var tag) || tag.IsPrivate) return null;
        // Instance-level column attributes (SOP Class, Rows…) have no series value; instance-level tags are not indexed.
        if (IndexAttributes.ColumnTags.Contains(tag) || IndexAttributes.InstanceLevelTags.Contains(tag)) return null;
        var entry = DicomDictionary.Lookup(tag);
        if (entry is null || entry.DefaultVR == DicomVR.SQ) return null;
        return new KeywordSource(keyword, null, unchecked((int)tag.Value));
    }

    /// <summary>Keywords that start with (then contain) <paramref name="text"/>, common ones first, for the keyword picker.</summary>
    public static IEnumerable<string> Suggest(string? text, int limit = 20)
    {
        text = text?.Trim() ?? "";
        var all = Common.Concat(DicomDictionary.Entries.Where(e => !e.IsRetired && !e.IsRepeater && e.Keyword.Length > 0).Select(e => e.Keyword))
            .Distinct(StringComparer.Ordinal);
        if (text.Length == 0) return Common.Take(limit);
        var starts = all.Where(k => k.StartsWith(text, StringComparison.OrdinalIgnoreCase));
        var contains = all.Where(k => !k.StartsWith(text, StringComparison.OrdinalIgnoreCase) && k.Contains(text, StringComparison.OrdinalIgnoreCase));
        return starts.Concat(contains).Where(k => Resolve(k) is not null).Take(limit);
    }
}
