using System.Globalization;
using Kaapana.Core.Archive.Query;
using Kaapana.Dicom;
using Kaapana.Dicom.Network.Query;

namespace Kaapana.Server.DicomWeb;

/// <summary>
/// A QIDO-RS request turned into what C-FIND would send: an identifier (Study Root, at the resource's level, relational) with
/// a matching key per <c>{attributeID}={value}</c> and a return key per default or <c>includefield</c> attribute, parsed with
/// the index's match options; plus paging and fuzzy matching. <see cref="Parse"/> reports every bad parameter as a message
/// for a 400 rather than guessing.
/// </summary>
public sealed record QidoQuery(QidoResource Resource, DicomDataset Identifier, DicomQuery Query, int Offset, int Limit, bool Fuzzy,
    IReadOnlyList<string> IgnoredKeys)
{
    private static readonly QueryRetrieveInformationModel Model = QueryRetrieveInformationModel.StudyRoot;

    public static bool TryParse(QidoResource resource, IEnumerable<KeyValuePair<string, Microsoft.Extensions.Primitives.StringValues>> parameters,
        QidoOptions options, out QidoQuery? query, out string? error)
    {
        query = null;
        error = null;
        var identifier = new DicomDataset();
        identifier.Set(DicomTags.SpecificCharacterSet, "ISO_IR 192"); // query strings are UTF-8
        identifier.Set(DicomTags.QueryRetrieveLevel, resource.Level.ToCode());
        var includes = new List<(string Name, DicomTag[] Path)>();
        bool all = false, fuzzy = false;
        int offset = 0, limit = options.DefaultLimit ?? options.MaxLimit;

        foreach (var (name, values) in parameters)
        {
            switch (name)
            {
                case "limit":
                    if (!TrySingle(name, values, out var l, out error)) return false;
                    if (!int.TryParse(l, NumberStyles.None, CultureInfo.InvariantCulture, out limit) || limit <= 0 || limit > options.MaxLimit)
                        return Fail($"limit must be a whole number from 1 to {options.MaxLimit}, not '{l}'.", out error);
                    continue;
                case "offset":
                    if (!TrySingle(name, values, out var o, out error)) return false;
                    if (!int.TryParse(o, NumberStyles.None, CultureInfo.InvariantCulture, out offset))
                        return Fail($"offset must be a whole number of at least 0, not '{o}'.", out error);
                    continue;
                case "fuzzymatching":
                    if (!TrySingle(name, values, out var f, out error)) return false;
                    if (!bool.TryParse(f, out fuzzy)) return Fail($"fuzzymatching must be true or false, not '{f}'.", out error);
                    continue;
                case "includefield":
                    foreach (var item in values.SelectMany(v => (v ?? "").Split(',')))
                    {
                        var field = item.Trim();
                        if (field.Length == 0) continue;
                        if (field == "all")
                        {
                            all = true;
                            continue;
                        }
                        if (!TryPath(field, out var path, out error)) return Fail($"includefield: {error}", out error);
                        includes.Add((field, path));
                    }
                    continue;
            }

            if (!TryPath(name, out var tags, out var pathError))
                return Fail($"'{name}' is neither a QIDO-RS parameter (limit, offset, fuzzymatching, includefield) nor an attribute: {pathError}", out error);
            if (!TrySingle(name, values, out var value, out error)) return false;
            if (!TryAddKey(resource, identifier, name, tags, value, out error)) return false;
        }

        foreach (var tag in resource.DefaultAttributes) AddReturnKey(identifier, [tag]);
        foreach (var (_, path) in includes)
            if (path is not [var t] || t != DicomTags.RetrieveURL) AddReturnKey(identifier, path);
        if (all)
            foreach (var tag in IndexSearch.AttributesAt(resource.Level)) AddReturnKey(identifier, [tag]);

        // The path's UIDs are matching keys like any other.
        if (resource.StudyInstanceUID is { } study)
        {
            if (!IsUid(study)) return Fail($"'{study}' is not a Study Instance UID.", out error);
            identifier.Set(DicomTags.StudyInstanceUID, study);
        }
        if (resource.SeriesInstanceUID is { } series)
        {
            if (!IsUid(series)) return Fail($"'{series}' is not a Series Instance UID.", out error);
            identifier.Set(DicomTags.SeriesInstanceUID, series);
        }

        var problems = Model.Validate(identifier, QueryRetrieveOperation.Find, relational: true).Where(p => p.Severity == QueryProblemSeverity.Error).ToList();
        if (problems.Count > 0) return Fail(problems[0].Message, out error);

        DicomQuery parsed;
        try
        {
            parsed = IndexSearch.Parse(identifier);
        }
        catch (DicomQueryException ex)
        {
            return Fail(ex.Message, out error);
        }
        // Keys without an index column cannot restrict the result: they are answered as return keys, and said so.
        var ignored = parsed.Keys.Where(k => !IndexSearch.SupportedKeys(k.Tag) && HasValue(identifier, k.Tag)).Select(k => k.Name).ToList();
        query = new QidoQuery(resource, identifier, parsed, offset, limit, fuzzy, ignored);
        return true;
    }

    private static bool TryAddKey(QidoResource resource, DicomDataset identifier, string name, DicomTag[] path, string value, out string? error)
    {
        error = null;
        var top = path[0];
        if ((top == DicomTags.StudyInstanceUID && resource.StudyInstanceUID is not null)
            || (top == DicomTags.SeriesInstanceUID && resource.SeriesInstanceUID is not null))
            return Fail($"{name} is already given in the path.", out error);
        if (value.Length > 0 && Model.GetLevelOf(top) is { } level && level > resource.Level)
            return Fail($"{name} is {LevelName(level, article: true)}-level attribute: a search for {resource.Noun} matches only on attributes of "
                        + $"the {LevelName(resource.Level)} level and above (it may be asked for with includefield).", out error);
        if (top == DicomTags.SpecificCharacterSet || top == DicomTags.QueryRetrieveLevel)
            return Fail($"{name} cannot be a search key.", out error);

        var ds = ParentItem(identifier, path);
        var tag = path[^1];
        var vr = DicomDictionary.GetDefaultVR(tag);
        if (ds.TryGetElement(tag, out var existing) && (existing is DicomSequence || !((DicomValueElement)existing).IsEmpty))
            return Fail($"{name} is given more than once.", out error);
        if (vr == DicomVR.SQ)
        {
            if (value.Length > 0) return Fail($"{name} is a sequence: match on its attributes ({name}.Keyword=value).", out error);
            ds.Set(new DicomSequence(tag));
            return true;
        }
        if (value.Length == 0)
        {
            ds.SetEmpty(tag, vr);
            return true;
        }
        // A list of UIDs may be separated by commas (PS3.18) or backslashes (as in DICOM); other values by backslashes only.
        var values = vr == DicomVR.UI ? value.Split([',', '\\']).Select(v => v.Trim()).ToArray() : value.Split('\\');
        if (vr == DicomVR.UI && values.FirstOrDefault(v => v != "*" && !IsUid(v)) is { } bad)
            return Fail($"{name}: '{bad}' is not a UID.", out error);
        try
        {
            ds.Set(tag, vr, values);
        }
        catch (DicomException ex)
        {
            return Fail($"{name}: {ex.Message}", out error);
        }
        return true;
    }

    /// <summary>The data set that holds the last tag of <paramref name="path"/>: the first item of each sequence on the way, created if missing.</summary>
    private static DicomDataset ParentItem(DicomDataset identifier, DicomTag[] path)
    {
        var ds = identifier;
        for (int i = 0; i < path.Length - 1; i++)
        {
            if (!ds.TryGetSequence(path[i], out var sq))
            {
                sq = new DicomSequence(path[i], [new DicomDataset()]);
                ds.Set(sq);
            }
            else if (sq.Items.Count == 0)
            {
                sq.Items.Add(new DicomDataset());
            }
            ds = sq.Items[0];
        }
        return ds;
    }

    private static void AddReturnKey(DicomDataset identifier, DicomTag[] path)
    {
        var ds = ParentItem(identifier, path);
        if (!ds.Contains(path[^1])) ds.SetEmpty(path[^1]);
    }

    /// <summary>An attribute path: keywords or 8-digit tags separated by dots (nested sequence attributes).</summary>
    private static bool TryPath(string text, out DicomTag[] path, out string? error)
    {
        error = null;
        var parts = text.Split('.');
        path = new DicomTag[parts.Length];
        for (int i = 0; i < parts.Length; i++)
        {
            var p = parts[i].Trim();
            bool isTag = p.Length == 8 && p.All(char.IsAsciiHexDigit);
            if (!(isTag || (p.Length > 0 && p.All(char.IsAsciiLetterOrDigit))) || !DicomTag.TryParse(p, out var tag))
                return Fail($"'{p}' is not a DICOM keyword or tag.", out error);
            if (tag.IsPrivate || tag.IsGroupLength || DicomDictionary.Lookup(tag) is not { IsRepeater: false })
                return Fail($"{p} is not a public attribute of the DICOM dictionary.", out error);
            if (i < parts.Length - 1 && DicomDictionary.GetDefaultVR(tag) != DicomVR.SQ)
                return Fail($"{p} is not a sequence, so '{text}' names no attribute.", out error);
            path[i] = tag;
        }
        return true;
    }

    private static bool TrySingle(string name, Microsoft.Extensions.Primitives.StringValues values, out string value, out string? error)
    {
        error = null;
        value = values.Count > 0 ? values[0] ?? "" : "";
        return values.Count <= 1 || Fail($"{name} is given {values.Count} times; give it once (several UIDs: separate them with commas).", out error);
    }

    private static bool HasValue(DicomDataset identifier, DicomTag tag) =>
        identifier.TryGetElement(tag, out var e) && e switch
        {
            DicomSequence s => s.Items.Any(i => i.Count > 0),
            DicomValueElement v => !v.IsEmpty,
            _ => false,
        };

    private static string LevelName(QueryRetrieveLevel level, bool article = false) => level switch
    {
        QueryRetrieveLevel.Patient => article ? "a patient" : "patient",
        QueryRetrieveLevel.Study => article ? "a study" : "study",
        QueryRetrieveLevel.Series => article ? "a series" : "series",
        _ => article ? "an instance" : "instance",
    };

    private static bool IsUid(string s) => s.Length is > 0 and <= 64 && s.All(c => char.IsAsciiDigit(c) || c == '.');

    private static bool Fail(string message, out string? error)
    {
        error = message;
        return false;
    }
}
