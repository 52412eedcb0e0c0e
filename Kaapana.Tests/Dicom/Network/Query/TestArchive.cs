using System.Collections.Concurrent;
using System.Numerics;
using System.Runtime.CompilerServices;
using Kaapana.Dicom;
using Kaapana.Dicom.Network;
using Kaapana.Dicom.Network.Query;

namespace Kaapana.Tests.Dicom.Network.Query;

/// <summary>
/// A folder of Part 10 files served as a Q/R SCP: C-FIND answered from level records built from the files' headers and
/// matched with <see cref="DicomQuery"/>, C-MOVE/C-GET sending the files. The kind of handler the archive will replace by SQL.
/// </summary>
public sealed class TestArchive : IFindHandler, IMoveHandler, IGetHandler, IServiceProvider
{
    private readonly List<(string Path, DicomDataset Header)> _instances = [];

    public TestArchive(IEnumerable<string> files)
    {
        foreach (var f in files)
            _instances.Add((f, DicomFile.Open(f, new DicomReadOptions { StopBeforePixelData = true }).Dataset));
    }

    /// <summary>C-MOVE destinations by AE title.</summary>
    public ConcurrentDictionary<string, DicomApplicationEntity> Destinations { get; } = new();

    /// <summary>Every request the handlers saw, for assertions.</summary>
    public ConcurrentQueue<DicomQueryRetrieveRequest> Requests { get; } = new();

    /// <summary>Completed when a C-FIND enumeration begun after the last <see cref="ExpectFindCancellation"/> is cancelled (C-CANCEL).</summary>
    public TaskCompletionSource FindCancelled { get; private set; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>A fresh <see cref="FindCancelled"/> for the next C-FIND.</summary>
    public Task ExpectFindCancellation()
    {
        FindCancelled = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        return FindCancelled.Task;
    }

    /// <summary>Completed when the C-MOVE/C-GET begun after the last <see cref="ExpectRetrieveCancellation"/> is cancelled (C-CANCEL).</summary>
    private TaskCompletionSource _retrieveCancelled = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public Task ExpectRetrieveCancellation()
    {
        _retrieveCancelled = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        return _retrieveCancelled.Task;
    }

    /// <summary>Delay between C-FIND matches (to give a C-CANCEL time to arrive).</summary>
    public TimeSpan MatchDelay { get; set; }

    public DicomQueryRetrieveOptions Options { get; set; } = new();

    public IReadOnlyList<string> Files => _instances.Select(i => i.Path).ToArray();

    public object? GetService(Type serviceType) =>
        serviceType == typeof(IFindHandler) || serviceType == typeof(IMoveHandler) || serviceType == typeof(IGetHandler) ? this
        : serviceType == typeof(DicomQueryRetrieveOptions) ? Options
        : null;

    /// <summary>One record per entity of the level, with the attributes of the levels above and the computed counts.</summary>
    public IEnumerable<DicomDataset> Records(QueryRetrieveLevel level)
    {
        if (level == QueryRetrieveLevel.Image)
        {
            foreach (var i in _instances) yield return i.Header;
            yield break;
        }
        foreach (var group in _instances.GroupBy(i => i.Header.GetString(level.UniqueKey())))
        {
            var record = group.First().Header.Clone();
            var members = group.Select(g => g.Header).ToList();
            switch (level)
            {
                case QueryRetrieveLevel.Series:
                    record.Set(DicomTags.NumberOfSeriesRelatedInstances, DicomVR.IS, members.Count.ToString());
                    break;
                case QueryRetrieveLevel.Study:
                    record.Set(DicomTags.ModalitiesInStudy, DicomVR.CS, members.Select(m => m.GetString(DicomTags.Modality)).Distinct().Order().ToArray());
                    record.Set(DicomTags.NumberOfStudyRelatedSeries, DicomVR.IS, members.Select(m => m.GetString(DicomTags.SeriesInstanceUID)).Distinct().Count().ToString());
                    record.Set(DicomTags.NumberOfStudyRelatedInstances, DicomVR.IS, members.Count.ToString());
                    break;
                case QueryRetrieveLevel.Patient:
                    record.Set(DicomTags.NumberOfPatientRelatedStudies, DicomVR.IS, members.Select(m => m.GetString(DicomTags.StudyInstanceUID)).Distinct().Count().ToString());
                    record.Set(DicomTags.NumberOfPatientRelatedInstances, DicomVR.IS, members.Count.ToString());
                    break;
            }
            yield return record;
        }
    }

    public async IAsyncEnumerable<DicomDataset> FindAsync(DicomFindRequest request, [EnumeratorCancellation] CancellationToken ct)
    {
        Requests.Enqueue(request);
        var cancelled = FindCancelled;
        using var _ = ct.Register(() => cancelled.TrySetResult());
        foreach (var record in Records(request.Level))
        {
            if (!request.Query.Matches(record)) continue;
            if (MatchDelay > TimeSpan.Zero) await Task.Delay(MatchDelay, ct);
            yield return record;
        }
    }

    public ValueTask<DicomApplicationEntity?> ResolveDestinationAsync(string aeTitle, DicomRetrieveRequest request, CancellationToken ct) =>
        ValueTask.FromResult(Destinations.TryGetValue(aeTitle, out var d) ? d : null);

    public async IAsyncEnumerable<DicomRetrieveInstance> GetInstancesAsync(DicomRetrieveRequest request, [EnumeratorCancellation] CancellationToken ct)
    {
        Requests.Enqueue(request);
        // The token is the operation's: it stays live (and is cancelled by C-CANCEL) while the sub-operations run.
        var cancelled = _retrieveCancelled;
        ct.Register(() => cancelled.TrySetResult());
        // The retrieve identifier holds unique keys only; every instance header carries them all.
        foreach (var (path, header) in _instances)
            if (request.Query.Matches(header)) yield return await DicomRetrieveInstance.FromFileAsync(path, ct);
    }
}

/// <summary>Synthetic studies written as Part 10 files: two patients, three studies, CT and MR series, small images.</summary>
public static class QueryTestData
{
    public sealed record Instance(string Path, string PatientId, string StudyUid, string SeriesUid, string SopUid, string Modality);

    public static string NewUid() => "2.25." + new BigInteger(Guid.NewGuid().ToByteArray(), isUnsigned: true);

    /// <summary>Writes the data set into <paramref name="dir"/>; the layout is fixed, the UIDs are new each time.</summary>
    public static IReadOnlyList<Instance> Write(string dir)
    {
        var result = new List<Instance>();
        void Study(string patientName, string patientId, string birth, string sex, string date, string time, string accession, string description,
            params (string Modality, string Description, int Count)[] series)
        {
            var studyUid = NewUid();
            int seriesNumber = 0;
            foreach (var (modality, seriesDescription, count) in series)
            {
                var seriesUid = NewUid();
                seriesNumber++;
                for (int i = 1; i <= count; i++)
                {
                    var sopUid = NewUid();
                    var ds = new DicomDataset()
                        .Set(DicomTags.SpecificCharacterSet, "ISO_IR 100")
                        .Set(DicomTags.SOPClassUID, modality == "MR" ? DicomUids.MRImageStorage : DicomUids.CTImageStorage)
                        .Set(DicomTags.SOPInstanceUID, sopUid)
                        .Set(DicomTags.StudyDate, date)
                        .Set(DicomTags.SeriesDate, date)
                        .Set(DicomTags.StudyTime, time)
                        .Set(DicomTags.AccessionNumber, accession)
                        .Set(DicomTags.Modality, modality)
                        .Set(DicomTags.ReferringPhysicianName, "Referrer^Rita")
                        .Set(DicomTags.StudyDescription, description)
                        .Set(DicomTags.SeriesDescription, seriesDescription)
                        .Set(DicomTags.PatientName, patientName)
                        .Set(DicomTags.PatientID, patientId)
                        .Set(DicomTags.PatientBirthDate, birth)
                        .Set(DicomTags.PatientSex, sex)
                        .Set(DicomTags.StudyInstanceUID, studyUid)
                        .Set(DicomTags.SeriesInstanceUID, seriesUid)
                        .Set(DicomTags.StudyID, accession[3..])
                        .Set(DicomTags.SeriesNumber, DicomVR.IS, seriesNumber.ToString())
                        .Set(DicomTags.InstanceNumber, DicomVR.IS, i.ToString())
                        .Set(DicomTags.SamplesPerPixel, DicomVR.US, (ushort)1)
                        .Set(DicomTags.PhotometricInterpretation, "MONOCHROME2")
                        .Set(DicomTags.Rows, DicomVR.US, (ushort)16)
                        .Set(DicomTags.Columns, DicomVR.US, (ushort)16)
                        .Set(DicomTags.BitsAllocated, DicomVR.US, (ushort)16)
                        .Set(DicomTags.BitsStored, DicomVR.US, (ushort)12)
                        .Set(DicomTags.HighBit, DicomVR.US, (ushort)11)
                        .Set(DicomTags.PixelRepresentation, DicomVR.US, (ushort)0);
                    var pixels = new byte[16 * 16 * 2];
                    for (int p = 0; p < pixels.Length; p += 2) pixels[p] = (byte)(p * i);
                    ds.SetBytes(DicomTags.PixelData, DicomVR.OW, pixels);
                    var path = Path.Combine(dir, $"{modality}{result.Count:D2}.dcm");
                    new DicomFile(ds).Save(path);
                    result.Add(new Instance(path, patientId, studyUid, seriesUid, sopUid, modality));
                }
            }
        }

        Study("Doe^John", "PAT001", "19700101", "M", "20200115", "101500", "ACC001", "CT Chest",
            ("CT", "Axial", 3), ("CT", "Coronal", 1));
        Study("Doe^John", "PAT001", "19700101", "M", "20210301", "090000", "ACC002", "MR Knee",
            ("MR", "T1 sag", 2));
        Study("Smith^Jane", "PAT002", "19851224", "F", "20200620", "143000", "ACC003", "CT Head",
            ("CT", "Brain", 2));
        Study("Müller^Jürgen", "PAT003", "19601010", "M", "20191231", "235959", "ACC004", "MR Brain",
            ("MR", "FLAIR", 1));
        return result;
    }
}
