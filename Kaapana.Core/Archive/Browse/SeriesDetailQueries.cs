using Kaapana.Core.Access;
using Kaapana.Core.Archive.Index;
using Kaapana.Core.Archive.Retrieve;
using Kaapana.Dicom;
using Microsoft.EntityFrameworkCore;

namespace Kaapana.Core.Archive.Browse;

/// <summary>One attribute of the representative instance; sequences carry their items, each a list of attributes.</summary>
public sealed record AttributeNode(string Tag, string Keyword, string Name, string VR, string Value, IReadOnlyList<IReadOnlyList<AttributeNode>> Items)
{
    public bool IsSequence => VR == "SQ";

    /// <summary>True when the text occurs in the tag, keyword, name or value of this node or of anything nested in it.</summary>
    public bool Matches(string text) =>
        Tag.Contains(text, StringComparison.OrdinalIgnoreCase) || Keyword.Contains(text, StringComparison.OrdinalIgnoreCase)
        || Name.Contains(text, StringComparison.OrdinalIgnoreCase) || Value.Contains(text, StringComparison.OrdinalIgnoreCase)
        || Items.Any(item => item.Any(n => n.Matches(text)));
}

public sealed record SeriesDetail(
    string SeriesInstanceUID, string StudyInstanceUID, string PatientID, string? PatientName, string? PatientSex, string? PatientBirthDate,
    string? StudyDate, string? StudyDescription, string? AccessionNumber, string? Modality, int? SeriesNumber, string? SeriesDescription,
    string? BodyPartExamined, string? Manufacturer, int NumberOfInstances, long TotalSize, DateTime CreatedAt, DateTime LastReceivedAt,
    bool IsComplete, IReadOnlyList<string> Projects, string? RepresentativeSOPInstanceUID);

/// <summary>The series page: index facts and the full header of a representative (middle) instance.</summary>
public interface ISeriesDetailQueries
{
    /// <summary>
    /// The series when it belongs to one of <paramref name="projects"/> (null = every project), listing only those of its
    /// projects; null otherwise, exactly as for a UID that is not in the index.
    /// </summary>
    Task<SeriesDetail?> GetAsync(string seriesInstanceUid, int[]? projects, CancellationToken ct = default);

    /// <summary>Every attribute of the representative instance up to Pixel Data; bulk values are summarised by their length.</summary>
    Task<IReadOnlyList<AttributeNode>> AttributesAsync(SeriesDetail series, CancellationToken ct = default);
}

public sealed class SeriesDetailQueries(IDbContextFactory<KaapanaDbContext> dbFactory, IInstanceRetrieval retrieval) : ISeriesDetailQueries
{
    private const int MaxValueChars = 512;

    public async Task<SeriesDetail?> GetAsync(string seriesInstanceUid, int[]? projects, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct).ConfigureAwait(false);
        var s = await db.Series.AsNoTracking().InProjects(db, projects).Where(x => x.SeriesInstanceUID == seriesInstanceUid)
            .Select(x => new
            {
                x.Id, x.SeriesInstanceUID, x.Study.StudyInstanceUID, x.Study.Patient.PatientID, x.Study.Patient.PatientName, x.Study.Patient.PatientSex,
                x.Study.Patient.PatientBirthDate, x.Study.StudyDate, x.Study.StudyDescription, x.Study.AccessionNumber, x.Modality, x.SeriesNumber,
                x.SeriesDescription, x.BodyPartExamined, x.Manufacturer, x.NumberOfInstances, x.TotalSize, x.CreatedAt, x.LastReceivedAt, x.IsComplete,
            }).FirstOrDefaultAsync(ct).ConfigureAwait(false);
        if (s is null) return null;
        var names = await db.ProjectSeries.Where(ps => ps.SeriesId == s.Id && (projects == null || projects.Contains(ps.ProjectId)))
            .Join(db.Projects, ps => ps.ProjectId, p => p.Id, (_, p) => p.Name).OrderBy(n => n).ToListAsync(ct).ConfigureAwait(false);
        var representative = await RepresentativeAsync(db, s.Id, s.NumberOfInstances, ct).ConfigureAwait(false);
        return new SeriesDetail(s.SeriesInstanceUID, s.StudyInstanceUID, s.PatientID, s.PatientName, s.PatientSex, s.PatientBirthDate, s.StudyDate,
            s.StudyDescription, s.AccessionNumber, s.Modality, s.SeriesNumber, s.SeriesDescription, s.BodyPartExamined, s.Manufacturer,
            s.NumberOfInstances, s.TotalSize, s.CreatedAt, s.LastReceivedAt, s.IsComplete, names, representative);
    }

    /// <summary>The middle instance by Instance Number (then arrival): cheap, from the index alone.</summary>
    internal static Task<string?> RepresentativeAsync(KaapanaDbContext db, long seriesId, int count, CancellationToken ct) =>
        db.Instances.AsNoTracking().Where(i => i.SeriesId == seriesId)
            .OrderBy(i => i.InstanceNumber == null).ThenBy(i => i.InstanceNumber).ThenBy(i => i.Id)
            .Skip(Math.Max(0, (count - 1) / 2)).Select(i => i.SOPInstanceUID).FirstOrDefaultAsync(ct);

    public async Task<IReadOnlyList<AttributeNode>> AttributesAsync(SeriesDetail series, CancellationToken ct = default)
    {
        if (series.RepresentativeSOPInstanceUID is null) return [];
        var found = await retrieval.FindAsync(new RetrieveScope(series.StudyInstanceUID, series.SeriesInstanceUID, series.RepresentativeSOPInstanceUID), ct)
            .ConfigureAwait(false);
        if (!found.Found) return [];
        var file = await Task.Run(() => retrieval.Read(found.Instances[0], stopBeforePixelData: true), ct).ConfigureAwait(false);
        return Nodes(file.Dataset);
    }

    public static IReadOnlyList<AttributeNode> Nodes(DicomDataset ds)
    {
        var list = new List<AttributeNode>();
        foreach (var e in ds)
        {
            if (e.Tag.IsGroupLength) continue;
            var entry = DicomDictionary.Lookup(e.Tag);
            string keyword = entry?.Keyword ?? (e.Tag.IsPrivate ? "(private)" : "");
            string name = entry?.Name ?? (e.Tag.IsPrivate ? ds.GetPrivateCreator(e.Tag) ?? "Private" : "Unknown");
            string tag = $"({e.Tag.Group:X4},{e.Tag.Element:X4})";
            switch (e)
            {
                case DicomSequence sq:
                    list.Add(new AttributeNode(tag, keyword, name, "SQ", $"{sq.Items.Count} item(s)", sq.Items.Select(Nodes).ToList()));
                    break;
                case DicomValueElement v:
                    list.Add(new AttributeNode(tag, keyword, name, e.VR.ToString(), Value(ds, v), []));
                    break;
                default:
                    list.Add(new AttributeNode(tag, keyword, name, e.VR.ToString(), "(encapsulated data)", []));
                    break;
            }
        }
        return list;
    }

    private static string Value(DicomDataset ds, DicomValueElement v)
    {
        if (v.VR is DicomVR.OB or DicomVR.OW or DicomVR.OF or DicomVR.OD or DicomVR.OL or DicomVR.OV or DicomVR.UN)
            return $"[{v.Length:N0} bytes]";
        if (v.Length > 16 * 1024) return $"[{v.Length:N0} bytes]";
        try
        {
            var s = ds.GetString(v.Tag);
            return s.Length > MaxValueChars ? s[..MaxValueChars] + "…" : s;
        }
        catch (DicomException ex)
        {
            return $"(unreadable: {ex.Message})";
        }
    }
}
