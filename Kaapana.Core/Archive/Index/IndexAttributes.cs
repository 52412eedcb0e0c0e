using System.Globalization;
using System.Text;
using Kaapana.Dicom;

namespace Kaapana.Core.Archive.Index;

/// <summary>The index attributes of one instance, read from its header.</summary>
public sealed record InstanceRecord
{
    public required string PatientID { get; init; }
    public string? IssuerOfPatientID { get; init; }
    public string? PatientName { get; init; }
    public string? PatientBirthDate { get; init; }
    public string? PatientSex { get; init; }

    public required string StudyInstanceUID { get; init; }
    public string? StudyDate { get; init; }
    public string? StudyTime { get; init; }
    public string? AccessionNumber { get; init; }
    public string? StudyID { get; init; }
    public string? StudyDescription { get; init; }
    public string? ReferringPhysicianName { get; init; }

    public required string SeriesInstanceUID { get; init; }
    public string? Modality { get; init; }
    public int? SeriesNumber { get; init; }
    public string? SeriesDescription { get; init; }
    public string? BodyPartExamined { get; init; }
    public string? Manufacturer { get; init; }
    public string? ManufacturerModelName { get; init; }
    public string? SeriesDate { get; init; }
    public string? SeriesTime { get; init; }

    public required string SOPInstanceUID { get; init; }
    public required string SOPClassUID { get; init; }
    public int? InstanceNumber { get; init; }
    public required string TransferSyntaxUID { get; init; }
    public int? NumberOfFrames { get; init; }
    public int? Rows { get; init; }
    public int? Columns { get; init; }
}

/// <summary>Turns a parsed header into index rows: the column attributes, the normalised name, the per-series attribute rows.</summary>
public static class IndexAttributes
{
    /// <summary>Longest value kept in <see cref="SeriesAttribute.Value"/>; longer values (long text) are not indexed.</summary>
    public const int MaxAttributeValueLength = 1024;

    /// <summary>Attributes that have columns of their own (or describe the instance alone) and so are not repeated as <see cref="SeriesAttribute"/>s.</summary>
    public static readonly IReadOnlySet<DicomTag> ColumnTags = new HashSet<DicomTag>
    {
        DicomTags.PatientID, DicomTags.IssuerOfPatientID, DicomTags.PatientName, DicomTags.PatientBirthDate, DicomTags.PatientSex,
        DicomTags.StudyInstanceUID, DicomTags.StudyDate, DicomTags.StudyTime, DicomTags.AccessionNumber, DicomTags.StudyID,
        DicomTags.StudyDescription, DicomTags.ReferringPhysicianName,
        DicomTags.SeriesInstanceUID, DicomTags.Modality, DicomTags.SeriesNumber, DicomTags.SeriesDescription,
        DicomTags.BodyPartExamined, DicomTags.Manufacturer, DicomTags.ManufacturerModelName, DicomTags.SeriesDate, DicomTags.SeriesTime,
        DicomTags.SOPInstanceUID, DicomTags.SOPClassUID, DicomTags.InstanceNumber, DicomTags.NumberOfFrames, DicomTags.Rows, DicomTags.Columns,
    };

    /// <summary>
    /// Attributes that describe one instance rather than its series (position, timing, windowing of one image). They vary
    /// within a series, so the value of whichever instance came first would mislead a series query; they are not indexed.
    /// </summary>
    public static readonly IReadOnlySet<DicomTag> InstanceLevelTags = new HashSet<DicomTag>
    {
        DicomTags.InstanceCreationDate, DicomTags.InstanceCreationTime, DicomTags.InstanceCreatorUID,
        DicomTags.ContentDate, DicomTags.ContentTime, DicomTags.AcquisitionDate, DicomTags.AcquisitionTime, DicomTags.AcquisitionDateTime,
        DicomTags.AcquisitionNumber, DicomTags.ImagePositionPatient, DicomTags.SliceLocation, DicomTags.WindowCenter, DicomTags.WindowWidth,
        DicomTags.SmallestImagePixelValue, DicomTags.LargestImagePixelValue, DicomTags.ImageComments, DicomTags.TriggerTime,
        DicomTags.InStackPositionNumber, DicomTags.TemporalPositionIndex, DicomTags.ReferencedSOPInstanceUID,
    };

    /// <summary>The record, or the reason the header cannot be indexed (a missing or malformed key attribute).</summary>
    public static (InstanceRecord? Record, string? Error) Extract(DicomFile file)
    {
        var ds = file.Dataset;
        var sopClass = Uid(ds, DicomTags.SOPClassUID, file.FileMetaInfo, DicomTags.MediaStorageSOPClassUID);
        var sopInstance = Uid(ds, DicomTags.SOPInstanceUID, file.FileMetaInfo, DicomTags.MediaStorageSOPInstanceUID);
        var study = Uid(ds, DicomTags.StudyInstanceUID);
        var series = Uid(ds, DicomTags.SeriesInstanceUID);
        var missing = new List<string>();
        if (sopClass is null) missing.Add("SOP Class UID (0008,0016)");
        if (sopInstance is null) missing.Add("SOP Instance UID (0008,0018)");
        if (study is null) missing.Add("Study Instance UID (0020,000D)");
        if (series is null) missing.Add("Series Instance UID (0020,000E)");
        if (missing.Count > 0) return (null, "missing or invalid " + string.Join(", ", missing));

        var record = new InstanceRecord
        {
            PatientID = Text(ds, DicomTags.PatientID, 64) ?? "",
            IssuerOfPatientID = Text(ds, DicomTags.IssuerOfPatientID, 64),
            PatientName = Text(ds, DicomTags.PatientName, 200),
            PatientBirthDate = Text(ds, DicomTags.PatientBirthDate, 8),
            PatientSex = Text(ds, DicomTags.PatientSex, 16),
            StudyInstanceUID = study!,
            StudyDate = Text(ds, DicomTags.StudyDate, 8),
            StudyTime = Text(ds, DicomTags.StudyTime, 16),
            AccessionNumber = Text(ds, DicomTags.AccessionNumber, 16),
            StudyID = Text(ds, DicomTags.StudyID, 16),
            StudyDescription = Text(ds, DicomTags.StudyDescription, 64),
            ReferringPhysicianName = Text(ds, DicomTags.ReferringPhysicianName, 200),
            SeriesInstanceUID = series!,
            Modality = Text(ds, DicomTags.Modality, 16),
            SeriesNumber = Int(ds, DicomTags.SeriesNumber),
            SeriesDescription = Text(ds, DicomTags.SeriesDescription, 64),
            BodyPartExamined = Text(ds, DicomTags.BodyPartExamined, 16),
            Manufacturer = Text(ds, DicomTags.Manufacturer, 64),
            ManufacturerModelName = Text(ds, DicomTags.ManufacturerModelName, 64),
            SeriesDate = Text(ds, DicomTags.SeriesDate, 8),
            SeriesTime = Text(ds, DicomTags.SeriesTime, 16),
            SOPInstanceUID = sopInstance!,
            SOPClassUID = sopClass!,
            InstanceNumber = Int(ds, DicomTags.InstanceNumber),
            TransferSyntaxUID = file.TransferSyntax.Uid,
            NumberOfFrames = Int(ds, DicomTags.NumberOfFrames),
            Rows = Int(ds, DicomTags.Rows),
            Columns = Int(ds, DicomTags.Columns),
        };
        return (record, null);
    }

    /// <summary>
    /// Every top-level public attribute of <paramref name="ds"/> that is not a sequence, not bulk data (OB, OW, OF, OD, OL, OV,
    /// UN), not empty, not longer than <see cref="MaxAttributeValueLength"/>, not one of the <see cref="ColumnTags"/> and not
    /// one of the <see cref="InstanceLevelTags"/>.
    /// </summary>
    public static IEnumerable<(DicomTag Tag, string Value)> SeriesAttributes(DicomDataset ds)
    {
        foreach (var e in ds)
        {
            if (e is not DicomValueElement v || v.IsEmpty || v.Length > MaxAttributeValueLength) continue;
            var tag = e.Tag;
            if (tag.Group <= 0x0002 || tag.IsPrivate || tag.IsGroupLength || tag.Group == 0x7FE0 || v.VR.IsBulk() || ColumnTags.Contains(tag) || InstanceLevelTags.Contains(tag)) continue;
            string value;
            try
            {
                value = ds.GetString(tag);
            }
            catch (DicomException)
            {
                continue; // undecodable text: not worth failing the ingest for
            }
            if (value.Length == 0) continue;
            yield return (tag, value.Length > MaxAttributeValueLength ? value[..MaxAttributeValueLength] : value);
        }
    }

    /// <summary>The tag as stored in <see cref="SeriesAttribute.Tag"/>.</summary>
    public static int TagKey(DicomTag tag) => unchecked((int)tag.Value);

    public static DicomTag TagOf(int key) => new(unchecked((uint)key));

    /// <summary>
    /// The search form of a person name: all component groups, upper case, diacritics removed, '^' and '=' as spaces,
    /// runs of spaces collapsed. "Müller^Hans" -> "MULLER HANS". Match a name query's normalised form against it.
    /// </summary>
    public static string? NormalizeName(string? name)
    {
        if (string.IsNullOrWhiteSpace(name)) return null;
        var decomposed = name.Normalize(NormalizationForm.FormD);
        var sb = new StringBuilder(decomposed.Length);
        bool space = true;
        foreach (var c in decomposed)
        {
            if (CharUnicodeInfo.GetUnicodeCategory(c) == UnicodeCategory.NonSpacingMark) continue;
            if (c is '^' or '=' or ' ' or '\t' || char.IsWhiteSpace(c))
            {
                if (!space) sb.Append(' ');
                space = true;
                continue;
            }
            sb.Append(char.ToUpperInvariant(c));
            space = false;
        }
        var s = sb.ToString().TrimEnd().Normalize(NormalizationForm.FormC);
        return s.Length == 0 ? null : s.Length > 200 ? s[..200] : s;
    }

    /// <summary>A UID value (trimmed), or null when absent, empty, longer than 64 characters or not digits and dots.</summary>
    private static string? Uid(DicomDataset ds, DicomTag tag, DicomDataset? fallback = null, DicomTag? fallbackTag = null)
    {
        var value = Text(ds, tag, int.MaxValue);
        if (value is null && fallback is not null && fallbackTag is { } ft) value = Text(fallback, ft, int.MaxValue);
        if (value is null || value.Length > 64) return null;
        foreach (var c in value)
            if (!char.IsAsciiDigit(c) && c != '.') return null;
        return value;
    }

    private static string? Text(DicomDataset ds, DicomTag tag, int maxLength)
    {
        if (!ds.TryGetElement(tag, out var e) || e is not DicomValueElement { IsEmpty: false } v || v.Length > 4096) return null;
        string s;
        try
        {
            s = ds.GetString(tag).Trim();
        }
        catch (DicomException)
        {
            return null;
        }
        if (s.Length == 0) return null;
        return s.Length > maxLength ? s[..maxLength] : s;
    }

    private static int? Int(DicomDataset ds, DicomTag tag)
    {
        if (ds.TryGet<int>(tag, out var i)) return i;
        // IS values written as "1.0" or with stray spaces by some devices.
        var s = Text(ds, tag, 32);
        return s is not null && double.TryParse(s.Split('\\')[0], NumberStyles.Float, CultureInfo.InvariantCulture, out var d) && d is >= int.MinValue and <= int.MaxValue
            ? (int)d
            : null;
    }
}
