using System.Globalization;
using System.Text;

namespace Kaapana.Dicom.Deidentification;

/// <summary>
/// Applies the PS3.15 Basic Application Level Confidentiality Profile (Annex E, Table E.1-1) with the options in
/// <see cref="DeidentificationOptions"/>, recursing into sequences. UIDs and the patient's identity come from an
/// <see cref="IDeidentificationMapping"/>, so a series de-identified instance by instance keeps consistent references.
/// Pixel data and every other bulk value are never touched (the same buffers are written back).
/// <para>
/// Without per-IOD attribute types the combined actions are resolved so the result stays as conformant as the input:
/// X/Z keeps a present attribute as zero length; X/D, Z/D and X/Z/D put a dummy in a present, non-empty attribute (it may be
/// Type 1) and leave an empty one empty; X/Z/U* and D on a sequence keep the sequence and clean its items. Dates, times and
/// date-times that the table does not list are treated like the listed ones (X/D, or kept / shifted with the date options).
/// Private elements, overlays (60xx) and curves (50xx) are removed.
/// </para>
/// </summary>
public sealed class DicomDeidentifier
{
    private static readonly DicomTag[] DeviceIdentityMeta =
    [
        DicomTags.SourceApplicationEntityTitle, DicomTags.SendingApplicationEntityTitle, DicomTags.ReceivingApplicationEntityTitle,
        DicomTags.SourcePresentationAddress, DicomTags.SendingPresentationAddress, DicomTags.ReceivingPresentationAddress,
    ];

    private readonly DeidentificationOptions _options;
    private readonly IDeidentificationMapping _mapping;
    private readonly ConfidentialityOption _profile;

    public DicomDeidentifier(DeidentificationOptions options, IDeidentificationMapping mapping)
    {
        _options = options ?? throw new ArgumentNullException(nameof(options));
        _mapping = mapping ?? throw new ArgumentNullException(nameof(mapping));
        _profile = options.ProfileOptions;
        if (string.IsNullOrEmpty(options.DummyText)) throw new ArgumentException("DummyText must not be empty.", nameof(options));
    }

    /// <summary>
    /// What identifies the patient for pseudonyms and date shifts: the Patient ID as it is (not qualified by its issuer: derived
    /// objects such as SEGs often drop the issuer and must still land on the same pseudonym); the name when there is no ID
    /// (then two unnamed, unidentified patients share one pseudonym).
    /// </summary>
    public static string PatientKey(DicomDataset ds)
    {
        var id = ds.GetString(DicomTags.PatientID).Trim();
        if (id.Length > 0) return id;
        var name = ds.GetString(DicomTags.PatientName).Trim();
        return name.Length > 0 ? "name:" + name : "";
    }

    /// <summary>A de-identified copy; <paramref name="source"/> is unchanged (bulk buffers are shared, not copied).</summary>
    public DicomDataset Deidentify(DicomDataset source)
    {
        var copy = source.Clone();
        DeidentifyInPlace(copy);
        return copy;
    }

    /// <summary>De-identifies a top-level data set in place.</summary>
    public void DeidentifyInPlace(DicomDataset ds)
    {
        if (ds.GetString(DicomTags.SOPClassUID) == DicomUids.MediaStorageDirectoryStorage || ds.Contains(DicomTags.DirectoryRecordSequence))
            throw new DicomException("A DICOMDIR names its files by path (often by patient ID): de-identify the instances and build a new DICOMDIR.");
        var key = PatientKey(ds);
        var context = new Context(key, _mapping.MapPatient(key), _options.Dates == DateHandling.Shift ? _mapping.DateShiftDays(key) : 0);
        Process(ds, context);
        MarkDeidentified(ds);
    }

    /// <summary>
    /// A de-identified copy of a file: the data set as in <see cref="Deidentify(DicomDataset)"/>, the meta information's Media
    /// Storage SOP Instance UID following the new SOP Instance UID, sender/receiver AE titles and addresses removed (unless
    /// device identity is retained) and the preamble cleared (it can hold a TIFF header with its own identifying tags).
    /// </summary>
    public DicomFile Deidentify(DicomFile file)
    {
        var dataset = Deidentify(file.Dataset);
        return new DicomFile(DeidentifyMeta(file.FileMetaInfo, dataset), dataset, file.TransferSyntax, preamble: null, file.IsPartial);
    }

    /// <summary>
    /// Reads <paramref name="inputPath"/>, de-identifies it and writes the Part 10 result to <paramref name="output"/>. Values
    /// larger than <see cref="DicomReadOptions.LargeValueThreshold"/> (pixel data) stay in the input file and are copied from it
    /// to the output as a stream, so memory does not grow with the image size (except for deflated or big-endian input).
    /// </summary>
    public void DeidentifyFile(string inputPath, Stream output, DicomWriteOptions? writeOptions = null)
    {
        var file = DicomFile.Open(inputPath);
        DeidentifyInPlace(file.Dataset);
        var meta = DeidentifyMeta(file.FileMetaInfo, file.Dataset);
        new DicomFile(meta, file.Dataset, file.TransferSyntax, preamble: null, file.IsPartial).Save(output, writeOptions);
    }

    /// <summary>As <see cref="DeidentifyFile(string, Stream, DicomWriteOptions?)"/>, writing atomically to another path.</summary>
    public void DeidentifyFile(string inputPath, string outputPath, DicomWriteOptions? writeOptions = null)
    {
        var file = DicomFile.Open(inputPath);
        DeidentifyInPlace(file.Dataset);
        var meta = DeidentifyMeta(file.FileMetaInfo, file.Dataset);
        new DicomFile(meta, file.Dataset, file.TransferSyntax, preamble: null, file.IsPartial).Save(outputPath, writeOptions);
    }

    private DicomDataset DeidentifyMeta(DicomDataset meta, DicomDataset deidentified)
    {
        var copy = meta.Clone();
        if (!_options.RetainDeviceIdentity)
            foreach (var t in DeviceIdentityMeta) copy.Remove(t);
        copy.Remove(DicomTags.PrivateInformationCreatorUID);
        copy.Remove(DicomTags.PrivateInformation);
        var sop = deidentified.GetString(DicomTags.SOPInstanceUID);
        if (sop.Length > 0) copy.Set(DicomTags.MediaStorageSOPInstanceUID, DicomVR.UI, sop);
        else if (copy.Contains(DicomTags.MediaStorageSOPInstanceUID) && !_options.RetainUids)
            copy.Set(DicomTags.MediaStorageSOPInstanceUID, DicomVR.UI, _mapping.MapUid(copy.GetString(DicomTags.MediaStorageSOPInstanceUID)));
        return copy;
    }

    private sealed record Context(string PatientKey, PatientPseudonym Pseudonym, int ShiftDays);

    private void Process(DicomDataset ds, Context context)
    {
        foreach (var element in ds.ToList())
        {
            var e = element;
            var tag = e.Tag;
            if (e.VR == DicomVR.UN && !tag.IsPrivate && e is DicomValueElement un)
            {
                // A public element that a converter left as UN (implicit VR input): text VRs have the same bytes whatever the
                // byte order, so give them their dictionary VR and treat them as such; a sequence is parsed (its bytes are implicit
                // VR little endian, PS3.5 6.2.2), and removed if that fails, since what cannot be inspected cannot be kept.
                var known = DicomDictionary.Lookup(tag)?.VRs;
                if (known is [DicomVR.SQ])
                {
                    if (ParseUnknownSequence(un) is { } parsed)
                    {
                        ds.Set(parsed);
                        ProcessElement(ds, parsed, context);
                    }
                    else
                    {
                        ds.Remove(tag);
                    }
                    continue;
                }
                if (known is [var vr] && vr.IsString())
                {
                    e = new DicomValueElement(tag, vr, un.Buffer);
                    ds.Set(e);
                }
            }
            ProcessElement(ds, e, context);
        }
    }

    private static DicomSequence? ParseUnknownSequence(DicomValueElement un)
    {
        try
        {
            var bytes = new byte[8 + un.Length];
            System.Buffers.Binary.BinaryPrimitives.WriteUInt16LittleEndian(bytes, un.Tag.Group);
            System.Buffers.Binary.BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(2), un.Tag.Element);
            System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(4), (uint)un.Length);
            un.Buffer.Memory.Span.CopyTo(bytes.AsSpan(8));
            var ds = DicomReader.ReadDataset(new MemoryStream(bytes), DicomTransferSyntax.ImplicitVRLittleEndian);
            return ds.TryGetSequence(un.Tag, out var sq) ? new DicomSequence(un.Tag, sq.Items.Select(i => i.Clone())) : null;
        }
        catch (DicomException)
        {
            return null;
        }
    }

    private void ProcessElement(DicomDataset ds, DicomElement e, Context context)
    {
        var tag = e.Tag;
        if (tag.IsGroupLength || tag.IsPrivate || IsOverlayOrCurve(tag))
        {
            ds.Remove(tag);
            return;
        }
        if (tag == DicomTags.PatientID && e is DicomValueElement)
        {
            // Z allows a dummy value: the target's pseudonym, so the patient stays recognisable within the target.
            var original = ds.GetString(tag).Trim();
            ds.Set(tag, DicomVR.LO, original.Length == 0 && ds.Parent is not null ? "" : PseudonymFor(ds, original, context).PatientId);
            return;
        }
        if (tag == DicomTags.PatientName && e is DicomValueElement)
        {
            var empty = ds.GetString(tag).Trim().Length == 0;
            ds.Set(tag, DicomVR.PN, empty && ds.Parent is not null ? "" : PseudonymFor(ds, null, context).PatientName);
            return;
        }
        if (ConfidentialityProfileTable.Find(tag) is { } rule)
        {
            Apply(ds, e, rule.ActionFor(_profile), rule.Basic, context);
            return;
        }
        if (IsTemporal(e))
        {
            Apply(ds, e, _options.Dates switch
            {
                DateHandling.RetainFull => ProfileAction.Keep,
                DateHandling.Shift => ProfileAction.Clean,
                _ => ProfileAction.RemoveOrDummy,
            }, ProfileAction.RemoveOrDummy, context);
            return;
        }
        if (e is DicomSequence sq) ProcessItems(sq, context);
    }

    /// <summary>The top-level patient gets the context's pseudonym; a patient named inside a sequence (rare) gets its own.</summary>
    private PatientPseudonym PseudonymFor(DicomDataset ds, string? id, Context context) =>
        ds.Parent is null ? context.Pseudonym : _mapping.MapPatient(id ?? PatientKey(ds));

    private static bool IsOverlayOrCurve(DicomTag tag) =>
        (tag.Group & 1) == 0 && (tag.Group is >= 0x6000 and <= 0x601E || tag.Group is >= 0x5000 and <= 0x501E);

    private static bool IsTemporal(DicomElement e) => e.VR is DicomVR.DA or DicomVR.DT or DicomVR.TM;

    private void ProcessItems(DicomSequence sq, Context context)
    {
        foreach (var item in sq.Items) Process(item, context);
    }

    private void Apply(DicomDataset ds, DicomElement e, ProfileAction action, ProfileAction basic, Context context)
    {
        var isEmpty = e switch
        {
            DicomSequence s => s.Items.Count == 0,
            DicomValueElement v => v.IsEmpty,
            _ => false,
        };
        switch (action)
        {
            case ProfileAction.Keep:
                if (e is DicomSequence keep) ProcessItems(keep, context); // K: "cleaned for sequences"
                break;
            case ProfileAction.Remove:
                ds.Remove(e.Tag);
                break;
            case ProfileAction.Empty:
            case ProfileAction.RemoveOrEmpty:
            case ProfileAction.EmptyOrDummy when e is DicomSequence:
            case ProfileAction.RemoveEmptyOrDummy when e is DicomSequence:
                SetEmpty(ds, e);
                break;
            case ProfileAction.Dummy:
            case ProfileAction.EmptyOrDummy:
            case ProfileAction.RemoveOrDummy:
            case ProfileAction.RemoveEmptyOrDummy:
                if (e is DicomSequence dummySeq)
                {
                    ProcessItems(dummySeq, context);
                    if (e.Tag == DicomTags.PersonIdentificationCodeSequence) DummyCodes(dummySeq);
                }
                else if (!isEmpty || action == ProfileAction.Dummy)
                {
                    SetDummy(ds, (DicomValueElement)e);
                }
                break;
            case ProfileAction.Clean:
                if (e is DicomValueElement { VR: DicomVR.DA or DicomVR.DT or DicomVR.TM } && _options.Dates == DateHandling.Shift)
                    ShiftDates(ds, (DicomValueElement)e, context.ShiftDays);
                else
                    Apply(ds, e, basic, basic, context); // cleaning free text needs a person: fall back to the Basic Profile
                break;
            case ProfileAction.Uid:
                if (e is DicomValueElement uid) RemapUids(ds, uid);
                else if (e is DicomSequence uidSeq) ProcessItems(uidSeq, context);
                break;
            case ProfileAction.RemoveEmptyOrReplaceUids:
                if (e is DicomSequence refs) ProcessItems(refs, context); // keeps references valid; contained UIDs follow their own rows
                else SetEmpty(ds, e);
                break;
        }
    }

    private static void SetEmpty(DicomDataset ds, DicomElement e)
    {
        if (e is DicomSequence) ds.Set(new DicomSequence(e.Tag));
        else ds.Set(new DicomValueElement(e.Tag, e.VR, DicomBuffer.Empty));
    }

    private static DicomVR TextVR(DicomElement e) => e.VR is DicomVR.UN or DicomVR.None ? DicomDictionary.GetDefaultVR(e.Tag) : e.VR;

    /// <summary>A value that fits the VR and says nothing about the original (dates: 1900-01-01).</summary>
    private void SetDummy(DicomDataset ds, DicomValueElement e)
    {
        var vr = TextVR(e);
        string? text = vr switch
        {
            DicomVR.DA => "19000101",
            DicomVR.TM => "000000",
            DicomVR.DT => "19000101000000",
            DicomVR.AS => "000D",
            DicomVR.DS or DicomVR.IS => "0",
            DicomVR.UI => null,
            DicomVR.AE or DicomVR.CS or DicomVR.SH => Cut(_options.DummyText, 16),
            DicomVR.UR => "urn:" + _options.DummyText.ToLowerInvariant(),
            DicomVR.PN => $"{Cut(_options.DummyText, 31)}^{Cut(_options.DummyText, 31)}", // family^given: one component is the retired form
            _ when vr.IsString() => Cut(_options.DummyText, 64),
            _ => null,
        };
        if (vr == DicomVR.CS) text = text!.ToUpperInvariant();
        if (text != null) ds.Set(e.Tag, vr, text);
        else if (vr == DicomVR.UI) RemapUids(ds, e);
        else ds.Set(new DicomValueElement(e.Tag, e.VR, DicomBuffer.From(new byte[Math.Max(e.Length, 2)]))); // zeros, same size
    }

    private static string Cut(string s, int max) => s.Length <= max ? s : s[..max];

    private void DummyCodes(DicomSequence sq)
    {
        foreach (var item in sq.Items)
        {
            foreach (var t in new[] { DicomTags.CodeValue, DicomTags.LongCodeValue, DicomTags.URNCodeValue })
                if (item.Contains(t)) item.Set(t, t == DicomTags.URNCodeValue ? DicomVR.UR : t == DicomTags.CodeValue ? DicomVR.SH : DicomVR.UC,
                    t == DicomTags.URNCodeValue ? "urn:" + _options.DummyText.ToLowerInvariant() : Cut(_options.DummyText, 16));
            if (item.Contains(DicomTags.CodeMeaning)) item.Set(DicomTags.CodeMeaning, DicomVR.LO, Cut(_options.DummyText, 64));
        }
    }

    private static string[] RawStrings(DicomDataset ds, DicomValueElement e) =>
        e.VR == DicomVR.UN
            ? Encoding.ASCII.GetString(e.Span).Split('\\').Select(s => s.Trim(' ', '\0')).ToArray()
            : ds.GetStrings(e.Tag);

    private void RemapUids(DicomDataset ds, DicomValueElement e)
    {
        if (e.IsEmpty) return;
        // UIDs under the DICOM root (well-known frames of reference such as an atlas, SOP classes) identify no one and
        // lose their meaning when replaced.
        var mapped = RawStrings(ds, e).Select(u => u.Length == 0 || u.StartsWith("1.2.840.10008.", StringComparison.Ordinal) ? u : _mapping.MapUid(u)).ToArray();
        ds.Set(e.Tag, DicomVR.UI, mapped);
    }

    /// <summary>Moves dates by whole days; times of day are kept. Values that do not parse are replaced by a dummy (never kept).</summary>
    private void ShiftDates(DicomDataset ds, DicomValueElement e, int days)
    {
        if (e.IsEmpty || e.VR == DicomVR.TM) return;
        var values = RawStrings(ds, e);
        for (int i = 0; i < values.Length; i++)
        {
            var v = values[i];
            if (v.Length == 0) continue;
            if (v.Length >= 8 && DateOnly.TryParseExact(v[..8], "yyyyMMdd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var d))
            {
                var shifted = d.AddDays(days).ToString("yyyyMMdd", CultureInfo.InvariantCulture);
                values[i] = e.VR == DicomVR.DA ? shifted : shifted + v[8..];
            }
            else
            {
                values[i] = e.VR == DicomVR.DA ? "19000101" : "19000101000000";
            }
        }
        ds.Set(e.Tag, e.VR, values);
    }

    private static readonly (ConfidentialityOption Option, string Code, string Meaning)[] MethodCodes =
    [
        (ConfidentialityOption.None, "113100", "Basic Application Confidentiality Profile"),
        (ConfidentialityOption.RetainLongitudinalFullDates, "113106", "Retain Longitudinal Temporal Information Full Dates Option"),
        (ConfidentialityOption.RetainLongitudinalModifiedDates, "113107", "Retain Longitudinal Temporal Information Modified Dates Option"),
        (ConfidentialityOption.RetainPatientCharacteristics, "113108", "Retain Patient Characteristics Option"),
        (ConfidentialityOption.RetainDeviceIdentity, "113109", "Retain Device Identity Option"),
        (ConfidentialityOption.RetainUids, "113110", "Retain UIDs Option"),
        (ConfidentialityOption.RetainInstitutionIdentity, "113112", "Retain Institution Identity Option"),
    ];

    /// <summary>Patient Identity Removed, De-identification Method (+ Code Sequence, CID 7050) and Longitudinal Temporal Information Modified.</summary>
    private void MarkDeidentified(DicomDataset ds)
    {
        var applied = MethodCodes.Where(c => c.Option == ConfidentialityOption.None || (_profile & c.Option) != 0).ToList();
        ds.Set(DicomTags.PatientIdentityRemoved, DicomVR.CS, "YES");
        // Earlier de-identification steps (e.g. at the modality) are kept: the sequence records every method applied.
        var methods = ds.GetStrings(DicomTags.DeidentificationMethod).Where(m => m.Length > 0).ToList();
        foreach (var m in applied.Select(a => a.Meaning)) if (!methods.Contains(m)) methods.Add(m);
        ds.Set(DicomTags.DeidentificationMethod, DicomVR.LO, [.. methods]);
        var items = ds.TryGetSequence(DicomTags.DeidentificationMethodCodeSequence, out var existing) ? existing.Items.ToList() : [];
        foreach (var (_, code, meaning) in applied)
        {
            if (items.Any(i => i.GetString(DicomTags.CodeValue) == code && i.GetString(DicomTags.CodingSchemeDesignator) == "DCM")) continue;
            var item = new DicomDataset();
            item.Set(DicomTags.CodeValue, DicomVR.SH, code);
            item.Set(DicomTags.CodingSchemeDesignator, DicomVR.SH, "DCM");
            item.Set(DicomTags.CodeMeaning, DicomVR.LO, meaning);
            items.Add(item);
        }
        ds.Set(new DicomSequence(DicomTags.DeidentificationMethodCodeSequence, items.Select(i => i.Clone())));
        ds.Set(DicomTags.LongitudinalTemporalInformationModified, DicomVR.CS, _options.Dates switch
        {
            DateHandling.RetainFull => "UNMODIFIED",
            DateHandling.Shift => "MODIFIED",
            _ => "REMOVED",
        });
    }
}
