namespace Kaapana.Dicom.Network.Query;

/// <summary>The three Query/Retrieve operations, each with its own SOP Class per information model.</summary>
public enum QueryRetrieveOperation
{
    Find,
    Move,
    Get,
}

/// <summary>
/// A Query/Retrieve information model (PS3.4 C.6): its SOP Classes, its levels, and which attributes belong to which level.
/// Patient Root has PATIENT/STUDY/SERIES/IMAGE; Study Root has STUDY/SERIES/IMAGE, with the patient attributes at study level.
/// </summary>
public sealed class QueryRetrieveInformationModel
{
    private readonly QueryRetrieveLevel[] _levels;

    private QueryRetrieveInformationModel(string name, string find, string move, string get, params QueryRetrieveLevel[] levels)
    {
        Name = name;
        FindSopClassUid = find;
        MoveSopClassUid = move;
        GetSopClassUid = get;
        _levels = levels;
    }

    public static QueryRetrieveInformationModel PatientRoot { get; } = new("Patient Root",
        DicomUids.PatientRootQueryRetrieveInformationModelFind, DicomUids.PatientRootQueryRetrieveInformationModelMove,
        DicomUids.PatientRootQueryRetrieveInformationModelGet,
        QueryRetrieveLevel.Patient, QueryRetrieveLevel.Study, QueryRetrieveLevel.Series, QueryRetrieveLevel.Image);

    public static QueryRetrieveInformationModel StudyRoot { get; } = new("Study Root",
        DicomUids.StudyRootQueryRetrieveInformationModelFind, DicomUids.StudyRootQueryRetrieveInformationModelMove,
        DicomUids.StudyRootQueryRetrieveInformationModelGet,
        QueryRetrieveLevel.Study, QueryRetrieveLevel.Series, QueryRetrieveLevel.Image);

    public static IReadOnlyList<QueryRetrieveInformationModel> All { get; } = [PatientRoot, StudyRoot];

    public string Name { get; }
    public string FindSopClassUid { get; }
    public string MoveSopClassUid { get; }
    public string GetSopClassUid { get; }

    /// <summary>Levels of the model from the root down.</summary>
    public IReadOnlyList<QueryRetrieveLevel> Levels => _levels;

    public QueryRetrieveLevel RootLevel => _levels[0];

    public bool SupportsLevel(QueryRetrieveLevel level) => Array.IndexOf(_levels, level) >= 0;

    public string SopClassUid(QueryRetrieveOperation operation) => operation switch
    {
        QueryRetrieveOperation.Find => FindSopClassUid,
        QueryRetrieveOperation.Move => MoveSopClassUid,
        QueryRetrieveOperation.Get => GetSopClassUid,
        _ => throw new ArgumentOutOfRangeException(nameof(operation)),
    };

    /// <summary>The model and operation an abstract syntax (SOP Class UID) stands for.</summary>
    public static bool TryFromSopClassUid(string? sopClassUid, out QueryRetrieveInformationModel model, out QueryRetrieveOperation operation)
    {
        var uid = sopClassUid?.Trim(' ', '\0');
        foreach (var m in All)
        {
            foreach (var op in (ReadOnlySpan<QueryRetrieveOperation>)[QueryRetrieveOperation.Find, QueryRetrieveOperation.Move, QueryRetrieveOperation.Get])
            {
                if (m.SopClassUid(op) == uid)
                {
                    model = m;
                    operation = op;
                    return true;
                }
            }
        }
        model = null!;
        operation = default;
        return false;
    }

    /// <summary>Every SOP Class UID of the given operation, in the order of <see cref="All"/>.</summary>
    public static IReadOnlyList<string> SopClassUids(QueryRetrieveOperation operation) => All.Select(m => m.SopClassUid(operation)).ToArray();

    /// <summary>Required keys of a level (R and U in PS3.4 Tables C.6-1..7). Study Root adds Patient's Name and ID at study level.</summary>
    public IReadOnlyList<DicomTag> GetRequiredKeys(QueryRetrieveLevel level)
    {
        if (!SupportsLevel(level)) throw new ArgumentException($"{Name} has no {level.ToCode()} level.", nameof(level));
        return level switch
        {
            QueryRetrieveLevel.Patient => [DicomTags.PatientName, DicomTags.PatientID],
            QueryRetrieveLevel.Study when this == StudyRoot =>
                [DicomTags.StudyDate, DicomTags.StudyTime, DicomTags.AccessionNumber, DicomTags.PatientName, DicomTags.PatientID, DicomTags.StudyID, DicomTags.StudyInstanceUID],
            QueryRetrieveLevel.Study => [DicomTags.StudyDate, DicomTags.StudyTime, DicomTags.AccessionNumber, DicomTags.StudyID, DicomTags.StudyInstanceUID],
            QueryRetrieveLevel.Series => [DicomTags.Modality, DicomTags.SeriesNumber, DicomTags.SeriesInstanceUID],
            _ => [DicomTags.InstanceNumber, DicomTags.SOPInstanceUID],
        };
    }

    /// <summary>
    /// The level an attribute belongs to in this model, for the attributes PS3.4 C.6 and the IOD modules place at one level;
    /// null for attributes not listed (treated as allowed at any level, e.g. SOP-class-specific attributes) and for the
    /// attributes that describe the query itself (Specific Character Set, Query/Retrieve Level, Retrieve AE Title, ...).
    /// </summary>
    public QueryRetrieveLevel? GetLevelOf(DicomTag tag)
    {
        if (!QueryRetrieveAttributes.LevelOf.TryGetValue(tag, out var level)) return null;
        return level == QueryRetrieveLevel.Patient && this == StudyRoot ? QueryRetrieveLevel.Study : level;
    }

    /// <summary>The attributes this model places at a level (required ones first).</summary>
    public IReadOnlyList<DicomTag> GetKnownKeys(QueryRetrieveLevel level)
    {
        var required = GetRequiredKeys(level);
        return required.Concat(QueryRetrieveAttributes.LevelOf.Where(p => GetLevelOf(p.Key) == level).Select(p => p.Key).Order())
            .Distinct().ToArray();
    }

    /// <summary>
    /// Checks a C-FIND, C-MOVE or C-GET identifier against this model (PS3.4 C.4.1.2.1, C.4.2.2.1, C.4.3.2.1).
    /// Returns an empty list when it is acceptable; an SCP rejects the request when any problem is an <see cref="QueryProblemSeverity.Error"/>.
    /// With <paramref name="relational"/> (relational queries, or a lenient SCP) the identifier need not carry the unique keys of
    /// the levels above the query/retrieve level.
    /// </summary>
    public IReadOnlyList<QueryIdentifierProblem> Validate(DicomDataset identifier, QueryRetrieveOperation operation, bool relational = false)
    {
        var problems = new List<QueryIdentifierProblem>();
        if (!identifier.Contains(DicomTags.QueryRetrieveLevel))
        {
            problems.Add(new(DicomTags.QueryRetrieveLevel, "Query/Retrieve Level (0008,0052) is missing."));
            return problems;
        }
        if (!QueryRetrieveLevels.TryGetLevel(identifier, out var level))
        {
            problems.Add(new(DicomTags.QueryRetrieveLevel, $"Query/Retrieve Level '{identifier.GetString(DicomTags.QueryRetrieveLevel)}' is not PATIENT, STUDY, SERIES or IMAGE."));
            return problems;
        }
        if (!SupportsLevel(level))
        {
            problems.Add(new(DicomTags.QueryRetrieveLevel, $"The {Name} model has no {level.ToCode()} level."));
            return problems;
        }

        foreach (var e in identifier)
        {
            if (e.Tag.IsGroupLength || e.Tag.IsPrivate) continue;
            if (GetLevelOf(e.Tag) is { } at && at > level)
            {
                // Asking for a lower level's attribute only as a return key is a common SCU habit: it cannot be answered (the SCP
                // returns it empty) but it does not change what matches. Matching on it would.
                bool returnKeyOnly = IsEmptyKey(e);
                problems.Add(new(e.Tag, $"{Describe(e.Tag)} belongs to the {at.ToCode()} level, below the query level {level.ToCode()}.",
                    returnKeyOnly ? QueryProblemSeverity.Warning : QueryProblemSeverity.Error));
            }
        }

        if (operation == QueryRetrieveOperation.Find)
        {
            if (!relational)
            {
                foreach (var above in _levels.Where(l => l < level))
                    RequireSingleUid(identifier, above.UniqueKey(), above, problems, allowList: false);
            }
        }
        else
        {
            if (!relational)
            {
                foreach (var above in _levels.Where(l => l < level))
                    RequireSingleUid(identifier, above.UniqueKey(), above, problems, allowList: false);
            }
            RequireSingleUid(identifier, level.UniqueKey(), level, problems, allowList: true);
            foreach (var e in identifier)
            {
                if (e.Tag == DicomTags.QueryRetrieveLevel || e.Tag == DicomTags.SpecificCharacterSet || e.Tag.IsGroupLength) continue;
                if (e.Tag == DicomTags.QueryRetrieveView || e.Tag == DicomTags.TimezoneOffsetFromUTC) continue;
                if (_levels.Any(l => l <= level && l.UniqueKey() == e.Tag)) continue;
                problems.Add(new(e.Tag, $"{Describe(e.Tag)} is not a unique key; a {operation} identifier holds only the unique keys down to the retrieve level.",
                    QueryProblemSeverity.Warning));
            }
        }
        return problems;
    }

    private static bool IsEmptyKey(DicomElement e) => e switch
    {
        DicomSequence sq => sq.Items.All(i => i.Count == 0),
        DicomValueElement v => v.IsEmpty,
        _ => true,
    };

    private static void RequireSingleUid(DicomDataset identifier, DicomTag key, QueryRetrieveLevel level, List<QueryIdentifierProblem> problems, bool allowList)
    {
        var values = identifier.GetStrings(key);
        if (values.Length == 0 || values.All(v => v.Length == 0))
            problems.Add(new(key, $"The unique key {Describe(key)} of the {level.ToCode()} level is missing or empty."));
        else if (values.Length > 1 && !allowList)
            problems.Add(new(key, $"The unique key {Describe(key)} of the {level.ToCode()} level must be a single value."));
        else if (values.Any(v => v.Contains('*') || v.Contains('?')))
            problems.Add(new(key, $"The unique key {Describe(key)} must not contain wildcards."));
    }

    private static string Describe(DicomTag tag) => DicomDictionary.Lookup(tag)?.Keyword is { } k ? $"{k} {tag}" : tag.ToString();

    public override string ToString() => Name;
}

/// <summary>How much an <see cref="QueryIdentifierProblem"/> matters to an SCP.</summary>
public enum QueryProblemSeverity
{
    /// <summary>The SCP can go on, ignoring the attribute (e.g. a non-unique key in a C-MOVE identifier).</summary>
    Warning,
    /// <summary>The identifier does not match the SOP Class (status A900).</summary>
    Error,
}

/// <summary>One reason an identifier does not fit its information model; <see cref="Tag"/> is what goes into Offending Element.</summary>
public sealed record QueryIdentifierProblem(DicomTag Tag, string Message, QueryProblemSeverity Severity = QueryProblemSeverity.Error);

/// <summary>The level each well-known attribute belongs to in the Patient Root model (PS3.4 Tables C.6-1..4 and the IOD modules).</summary>
internal static class QueryRetrieveAttributes
{
    public static readonly IReadOnlyDictionary<DicomTag, QueryRetrieveLevel> LevelOf = Build();

    private static Dictionary<DicomTag, QueryRetrieveLevel> Build()
    {
        var map = new Dictionary<DicomTag, QueryRetrieveLevel>();
        void Add(QueryRetrieveLevel level, params DicomTag[] tags)
        {
            foreach (var t in tags) map[t] = level;
        }

        Add(QueryRetrieveLevel.Patient,
            DicomTags.PatientName, DicomTags.PatientID, DicomTags.IssuerOfPatientID, DicomTags.IssuerOfPatientIDQualifiersSequence,
            DicomTags.TypeOfPatientID, DicomTags.OtherPatientIDsSequence, DicomTags.OtherPatientNames, DicomTags.PatientBirthDate,
            DicomTags.PatientBirthTime, DicomTags.PatientSex, DicomTags.PatientBirthName, DicomTags.PatientMotherBirthName,
            DicomTags.EthnicGroup, DicomTags.PatientComments, DicomTags.PatientSpeciesDescription, DicomTags.PatientBreedDescription,
            DicomTags.ResponsiblePerson, DicomTags.ResponsibleOrganization, DicomTags.PatientIdentityRemoved,
            DicomTags.DeidentificationMethod, DicomTags.ReferencedPatientSequence, DicomTags.NumberOfPatientRelatedStudies,
            DicomTags.NumberOfPatientRelatedSeries, DicomTags.NumberOfPatientRelatedInstances);

        Add(QueryRetrieveLevel.Study,
            DicomTags.StudyDate, DicomTags.StudyTime, DicomTags.AccessionNumber, DicomTags.IssuerOfAccessionNumberSequence,
            DicomTags.StudyID, DicomTags.StudyInstanceUID, DicomTags.ModalitiesInStudy, DicomTags.SOPClassesInStudy,
            DicomTags.ReferringPhysicianName, DicomTags.StudyDescription, DicomTags.ProcedureCodeSequence,
            DicomTags.NameOfPhysiciansReadingStudy, DicomTags.AdmittingDiagnosesDescription, DicomTags.ReferencedStudySequence,
            DicomTags.PatientAge, DicomTags.PatientSize, DicomTags.PatientWeight, DicomTags.Occupation, DicomTags.AdditionalPatientHistory,
            DicomTags.NumberOfStudyRelatedSeries, DicomTags.NumberOfStudyRelatedInstances, DicomTags.PhysiciansOfRecord,
            DicomTags.AnatomicRegionsInStudyCodeSequence, DicomTags.PatientSexNeutered, DicomTags.MedicalAlerts, DicomTags.Allergies,
            DicomTags.SmokingStatus, DicomTags.PregnancyStatus);

        Add(QueryRetrieveLevel.Series,
            DicomTags.Modality, DicomTags.SeriesNumber, DicomTags.SeriesInstanceUID, DicomTags.NumberOfSeriesRelatedInstances,
            DicomTags.SeriesDate, DicomTags.SeriesTime, DicomTags.SeriesDescription, DicomTags.BodyPartExamined, DicomTags.Laterality,
            DicomTags.ProtocolName, DicomTags.OperatorsName, DicomTags.PerformingPhysicianName, DicomTags.PerformedProcedureStepStartDate,
            DicomTags.PerformedProcedureStepStartTime, DicomTags.PerformedProcedureStepID, DicomTags.PerformedProcedureStepDescription,
            DicomTags.RequestAttributesSequence, DicomTags.ReferencedPerformedProcedureStepSequence, DicomTags.PatientPosition);

        Add(QueryRetrieveLevel.Image,
            DicomTags.InstanceNumber, DicomTags.SOPInstanceUID, DicomTags.SOPClassUID, DicomTags.AlternateRepresentationSequence,
            DicomTags.RelatedGeneralSOPClassUID, DicomTags.ContentDate, DicomTags.ContentTime, DicomTags.AcquisitionDate,
            DicomTags.AcquisitionTime, DicomTags.AcquisitionDateTime, DicomTags.InstanceCreationDate, DicomTags.InstanceCreationTime,
            DicomTags.ImageType, DicomTags.Rows, DicomTags.Columns, DicomTags.BitsAllocated, DicomTags.NumberOfFrames,
            DicomTags.ConceptNameCodeSequence, DicomTags.ContentTemplateSequence, DicomTags.CompletionFlag, DicomTags.VerificationFlag,
            DicomTags.ContentLabel, DicomTags.ContentDescription, DicomTags.PresentationCreationDate, DicomTags.PresentationCreationTime,
            DicomTags.ContentCreatorName, DicomTags.ObservationDateTime, DicomTags.ImageComments);
        return map;
    }
}
