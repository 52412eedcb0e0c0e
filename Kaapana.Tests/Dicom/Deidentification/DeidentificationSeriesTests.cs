using System.Text.RegularExpressions;
using Kaapana.Dicom;
using Kaapana.Dicom.Deidentification;
using Kaapana.Dicom.Imaging.Segmentation;
using Kaapana.Tests.Dicom.Imaging;

namespace Kaapana.Tests.Dicom.Deidentification;

/// <summary>
/// A synthetic CT series full of identifying attributes plus a SEG made from it (Kaapana.Dicom/Imaging/Segmentation):
/// consistent remapping within a target and across runs, different results for another target, references that still resolve,
/// the options, untouched pixel data, and dciodvfy/dcmdump on the results.
/// </summary>
public class DeidentificationSeriesTests
{
    private const int Slices = 6, Size = 32;
    private static readonly byte[] Secret = "series-test-secret-abcdefghijklmnop"u8.ToArray();

    private static DicomDeidentifier For(string target, DeidentificationOptions? options = null) =>
        new(options ?? new DeidentificationOptions(), new HmacDeidentificationMapping(Secret, target));

    /// <summary>The CT series (ascending position) and a SEG of a sphere in it.</summary>
    private static (List<DicomFile> Ct, DicomFile Seg, LabelVolume Labels) Study()
    {
        var ct = SyntheticCt.Series(Slices, Size);
        ct.Reverse();
        for (int i = 0; i < ct.Count; i++)
        {
            var ds = ct[i].Dataset;
            ds.Set(DicomTags.PatientName, "Doe^Jane^Quincy");
            ds.Set(DicomTags.PatientID, "MRN-778899");
            ds.Set(DicomTags.IssuerOfPatientID, "ST-ELSEWHERE");
            ds.Set(DicomTags.PatientBirthDate, "19610214");
            ds.Set(DicomTags.PatientSex, "F");
            ds.Set(DicomTags.PatientAge, "062Y");
            ds.Set(DicomTags.PatientWeight, "71.5");
            ds.Set(DicomTags.PatientAddress, "12 Elm Street Springfield");
            ds.Set(DicomTags.InstitutionName, "St Elsewhere Hospital");
            ds.Set(DicomTags.InstitutionAddress, "1 Hospital Road Springfield");
            ds.Set(DicomTags.ReferringPhysicianName, "House^Gregory");
            ds.Set(DicomTags.PerformingPhysicianName, "Wilson^James");
            ds.Set(DicomTags.OperatorsName, "Tech^Terry");
            ds.Set(DicomTags.AccessionNumber, "ACC20240102X");
            ds.Set(DicomTags.StationName, "CTSCAN07");
            ds.Set(DicomTags.DeviceSerialNumber, "SN-4455667");
            ds.Set(DicomTags.SeriesDate, "20240102");
            ds.Set(DicomTags.SeriesTime, "101700");
            ds.Set(DicomTags.AcquisitionDate, "20240103");
            ds.Set(DicomTags.AcquisitionTime, "084500");
            ds.Set(DicomTags.ContentDate, "20240103");
            ds.Set(DicomTags.ContentTime, "084501");
            ds.Set(DicomTags.InstanceCreationDate, "20240104");
            ds.Set(DicomTags.StudyDescription, "Chest CT for Jane Doe");
            ds.Set(DicomTags.ImageComments, "Patient Jane Doe MRN-778899 moved during scan");
            var privateTag = ds.GetPrivateTag(0x0009, "ACME HOSPITAL", 0x01)!.Value;
            ds.Set(privateTag, DicomVR.LO, "Doe^Jane MRN-778899");
            var request = new DicomDataset();
            request.Set(DicomTags.RequestedProcedureID, "RP-99812");
            request.Set(DicomTags.ScheduledProcedureStepID, "SPS-99812");
            ds.SetSequence(DicomTags.RequestAttributesSequence, request);
            if (i > 0)
            {
                // A reference to the previous slice: must point at that slice's new UID afterwards.
                var reference = new DicomDataset();
                reference.Set(DicomTags.ReferencedSOPClassUID, DicomUids.CTImageStorage);
                reference.Set(DicomTags.ReferencedSOPInstanceUID, ct[i - 1].Dataset.GetString(DicomTags.SOPInstanceUID));
                ds.SetSequence(DicomTags.ReferencedImageSequence, reference);
            }
        }
        var geometry = SourceGeometry.FromInstances(ct.Select(f => f.Dataset));
        var labels = new LabelVolume(Slices, Size, Size);
        for (int z = 1; z < Slices - 1; z++)
            for (int y = 10; y < 20; y++)
                for (int x = 12; x < 22; x++)
                    labels[z, y, x] = 1;
        var segment = new SegmentDescription
        {
            Number = 1, Label = "Lesion", Category = CodedConcept.MorphologicallyAbnormalStructure, Type = CodedConcept.Tumor,
            AlgorithmType = SegmentAlgorithmType.Automatic,
            Algorithm = new AlgorithmIdentification("TestNet", "1.0", CodedConcept.ArtificialIntelligence),
        };
        var seg = DicomSegmentation.CreateBinary(geometry, labels, [segment],
            new SegmentationOptions { ContentCreatorName = "Reader^Rita", DeviceSerialNumber = "SEG-SERIAL-77" });
        return (ct, seg, labels);
    }

    private static string Uid(DicomFile f, DicomTag tag) => f.Dataset.GetString(tag);

    private static IEnumerable<string> ReferencedInstances(DicomDataset ds) =>
        DeidentificationProbe.Walk(ds).Where(x => x.Element.Tag == DicomTags.ReferencedSOPInstanceUID).SelectMany(x => x.Owner.GetStrings(x.Element.Tag));

    [Fact]
    public void UidsAndReferencesStayConsistentPerTarget()
    {
        var (ct, seg, labels) = Study();
        var all = ct.Append(seg).ToList();
        var a = all.Select(For("project-a").Deidentify).ToList();
        var newCt = a.Take(Slices).ToList();
        var newSeg = a[^1];

        // One study, series and frame of reference, all new, in 2.25 form.
        foreach (var tag in new[] { DicomTags.StudyInstanceUID, DicomTags.SeriesInstanceUID, DicomTags.FrameOfReferenceUID })
        {
            Assert.Single(newCt.Select(f => Uid(f, tag)).Distinct());
            Assert.NotEqual(Uid(ct[0], tag), Uid(newCt[0], tag));
        }
        var uidForm = new Regex(@"^2\.25\.(0|[1-9][0-9]*)$");
        var newSops = newCt.Select(f => Uid(f, DicomTags.SOPInstanceUID)).ToList();
        Assert.Equal(Slices, newSops.Distinct().Count());
        Assert.All(a.Select(f => Uid(f, DicomTags.SOPInstanceUID)), u => Assert.True(uidForm.IsMatch(u) && u.Length <= 64, u));
        Assert.Empty(newSops.Intersect(ct.Select(f => Uid(f, DicomTags.SOPInstanceUID))));

        // The CT's reference to its previous slice follows that slice.
        for (int i = 1; i < Slices; i++)
            Assert.Equal(newSops[i - 1], newCt[i].Dataset.GetSequence(DicomTags.ReferencedImageSequence).Items[0].GetString(DicomTags.ReferencedSOPInstanceUID));

        // The SEG: same study and frame of reference, its series and instance references resolve to the new CT.
        Assert.Equal(Uid(newCt[0], DicomTags.StudyInstanceUID), Uid(newSeg, DicomTags.StudyInstanceUID));
        Assert.Equal(Uid(newCt[0], DicomTags.FrameOfReferenceUID), Uid(newSeg, DicomTags.FrameOfReferenceUID));
        Assert.Equal(Uid(newCt[0], DicomTags.SeriesInstanceUID),
            newSeg.Dataset.GetSequence(DicomTags.ReferencedSeriesSequence).Items[0].GetString(DicomTags.SeriesInstanceUID));
        var segRefs = ReferencedInstances(newSeg.Dataset).ToList();
        Assert.True(segRefs.Count >= Slices - 2, $"{segRefs.Count} references");
        Assert.All(segRefs, r => Assert.Contains(r, newSops));
        Assert.Equal(ReferencedInstances(seg.Dataset).Distinct().Count(), segRefs.Distinct().Count());
        var read = DicomSegmentation.Read(newSeg, SourceGeometry.FromInstances(newCt.Select(f => f.Dataset)));
        Assert.True(read.ToLabelVolume().Data.AsSpan().SequenceEqual(labels.Data));

        // One pseudonym for the patient across CT and SEG.
        Assert.Single(a.Select(f => f.Dataset.GetString(DicomTags.PatientID)).Distinct());
        Assert.Single(a.Select(f => f.Dataset.GetString(DicomTags.PatientName)).Distinct());

        // Again into the same target, with a new de-identifier: the same result. Into another target: nothing shared.
        var again = all.Select(For("project-a").Deidentify).ToList();
        var b = all.Select(For("project-b").Deidentify).ToList();
        var uidTags = new[] { DicomTags.SOPInstanceUID, DicomTags.SeriesInstanceUID, DicomTags.StudyInstanceUID, DicomTags.FrameOfReferenceUID, DicomTags.PatientID };
        for (int i = 0; i < all.Count; i++)
            foreach (var tag in uidTags)
            {
                Assert.Equal(Uid(a[i], tag), Uid(again[i], tag));
                Assert.NotEqual(Uid(a[i], tag), Uid(b[i], tag));
            }
        Assert.Equal(ReferencedInstances(newSeg.Dataset), ReferencedInstances(again[^1].Dataset));
        Assert.Empty(ReferencedInstances(newSeg.Dataset).Intersect(ReferencedInstances(b[^1].Dataset)));
    }

    [Fact]
    public void NothingIdentifyingIsLeftAndTheFilesStayValid()
    {
        var (ct, seg, _) = Study();
        var deidentifier = For("project-a");
        using var dir = new ImagingTools.TempDir();
        var originals = ct.Append(seg).ToList();
        for (int i = 0; i < originals.Count; i++)
        {
            var original = originals[i];
            var result = deidentifier.Deidentify(original);
            Assert.Equal("Doe^Jane^Quincy", original.Dataset.GetString(DicomTags.PatientName)); // the copy path leaves the source alone
            // Pixel data is not copied or touched: the very same element.
            Assert.Same(original.Dataset[DicomTags.PixelData], result.Dataset[DicomTags.PixelData]);

            var before = dir.File($"orig{i}.dcm");
            var after = dir.File($"deid{i}.dcm");
            original.Save(before);
            result.Save(after);
            var written = DicomFile.Open(after);

            var secrets = DeidentificationProbe.Secrets(original.Dataset);
            foreach (var s in new[] { "Doe", "Jane", "Quincy", "MRN-778899", "ST-ELSEWHERE", "Elsewhere", "Gregory", "Wilson", "Terry", "ACC20240102X",
                         "CTSCAN07", "SN-4455667", "SEG-SERIAL-77", "Rita", "RP-99812", "SPS-99812", "20240102", "20240103", "20240104", "19610214", "Springfield" })
                if (original.Dataset.Any() && File.ReadAllText(before, System.Text.Encoding.Latin1).Contains(s)) secrets.Add(s);
            Assert.Contains("MRN-778899", secrets);
            var text = DeidentificationProbe.AllText(written.Dataset);
            Assert.DoesNotContain(secrets, s => text.Any(t => t.Contains(s, StringComparison.Ordinal)));
            var bytes = File.ReadAllBytes(after);
            Assert.DoesNotContain(secrets, s => bytes.AsSpan().IndexOf(System.Text.Encoding.ASCII.GetBytes(s)) >= 0);
            Assert.DoesNotContain(written.Dataset, e => e.Tag.IsPrivate);

            Assert.True(DeidentificationProbe.PixelBytes(original.Dataset).AsSpan().SequenceEqual(DeidentificationProbe.PixelBytes(written.Dataset)));
            Assert.Equal(written.Dataset.GetString(DicomTags.SOPInstanceUID), written.FileMetaInfo.GetString(DicomTags.MediaStorageSOPInstanceUID));
            Assert.Equal("YES", written.Dataset.GetString(DicomTags.PatientIdentityRemoved));
            Assert.Equal("REMOVED", written.Dataset.GetString(DicomTags.LongitudinalTemporalInformationModified));
            var codes = written.Dataset.GetSequence(DicomTags.DeidentificationMethodCodeSequence).Items.Select(c => c.GetString(DicomTags.CodeValue)).ToList();
            Assert.Equal(["113100"], codes);

            ImagingTools.RunOk("dcmdump", after);
            var errorsBefore = DeidentificationProbe.DciodvfyErrors(before);
            var errorsAfter = DeidentificationProbe.DciodvfyErrors(after);
            var added = errorsAfter.Keys.Except(errorsBefore.Keys).Select(k => errorsAfter[k]).ToList();
            Assert.True(added.Count == 0, $"new dciodvfy errors in {(i < Slices ? "CT" : "SEG")}:\n{string.Join('\n', added)}");
        }
    }

    [Fact]
    public void BasicProfileDatesAreEmptiedOrDummied()
    {
        var (ct, _, _) = Study();
        var ds = For("project-a").Deidentify(ct[0]).Dataset;
        Assert.Equal("", ds.GetString(DicomTags.StudyDate));         // Z
        Assert.True(ds.Contains(DicomTags.StudyDate));
        Assert.Equal("", ds.GetString(DicomTags.AcquisitionDate));   // X/Z, kept as zero length
        Assert.Equal("19000101", ds.GetString(DicomTags.SeriesDate)); // X/D: may be Type 1, so a dummy
        Assert.Equal("19000101", ds.GetString(DicomTags.ContentDate)); // Z/D
        Assert.Equal("19000101", ds.GetString(DicomTags.InstanceCreationDate)); // not in the table: handled by VR like X/D
        Assert.Equal("", ds.GetString(DicomTags.PatientBirthDate));
        Assert.Equal("", ds.GetString(DicomTags.PatientSex));
        Assert.False(ds.Contains(DicomTags.PatientAge));
        Assert.False(ds.Contains(DicomTags.PatientWeight));
        Assert.False(ds.Contains(DicomTags.ImageComments));
        Assert.False(ds.Contains(DicomTags.RequestAttributesSequence));
        Assert.False(ds.Contains(DicomTags.IssuerOfPatientID));
        Assert.Equal("ANONYMIZED", ds.GetString(DicomTags.StationName));
        Assert.StartsWith("ANON-", ds.GetString(DicomTags.PatientID));
        Assert.Equal("ANON^" + ds.GetString(DicomTags.PatientID)[5..], ds.GetString(DicomTags.PatientName));
    }

    [Fact]
    public void RetainOptionsKeepWhatTheyName()
    {
        var (ct, seg, _) = Study();
        var options = new DeidentificationOptions
        {
            Dates = DateHandling.RetainFull, RetainDeviceIdentity = true, RetainPatientCharacteristics = true,
        };
        var ds = For("project-a", options).Deidentify(ct[0]).Dataset;
        Assert.Equal("20240102", ds.GetString(DicomTags.StudyDate));
        Assert.Equal("20240103", ds.GetString(DicomTags.AcquisitionDate));
        Assert.Equal("101500", ds.GetString(DicomTags.StudyTime));
        Assert.Equal("20240104", ds.GetString(DicomTags.InstanceCreationDate));
        Assert.Equal("CTSCAN07", ds.GetString(DicomTags.StationName));
        Assert.Equal("SN-4455667", ds.GetString(DicomTags.DeviceSerialNumber));
        Assert.Equal("F", ds.GetString(DicomTags.PatientSex));
        Assert.Equal("062Y", ds.GetString(DicomTags.PatientAge));
        Assert.Equal("71.5", ds.GetString(DicomTags.PatientWeight));
        // Still gone: the patient's identity, institution, people, birth date.
        Assert.NotEqual("MRN-778899", ds.GetString(DicomTags.PatientID));
        Assert.NotEqual("Doe^Jane^Quincy", ds.GetString(DicomTags.PatientName));
        Assert.Equal("", ds.GetString(DicomTags.PatientBirthDate));
        Assert.Equal("ANONYMIZED", ds.GetString(DicomTags.InstitutionName));
        Assert.Equal("", ds.GetString(DicomTags.ReferringPhysicianName));
        Assert.False(ds.Contains(DicomTags.PerformingPhysicianName));
        Assert.Equal("UNMODIFIED", ds.GetString(DicomTags.LongitudinalTemporalInformationModified));
        var codes = ds.GetSequence(DicomTags.DeidentificationMethodCodeSequence).Items.Select(c => c.GetString(DicomTags.CodeValue)).Order().ToList();
        Assert.Equal(["113100", "113106", "113108", "113109"], codes);
        Assert.Contains("Retain Device Identity Option", ds.GetStrings(DicomTags.DeidentificationMethod));

        var segDs = For("project-a", options with { RetainUids = true }).Deidentify(seg).Dataset;
        Assert.Equal(seg.Dataset.GetString(DicomTags.SOPInstanceUID), segDs.GetString(DicomTags.SOPInstanceUID));
        Assert.Equal(ReferencedInstances(seg.Dataset), ReferencedInstances(segDs));
        Assert.Equal("SEG-SERIAL-77", segDs.GetString(DicomTags.DeviceSerialNumber));
    }

    [Fact]
    public void ModifiedDatesShiftEveryDateOfAPatientByTheSameDays()
    {
        var (ct, seg, _) = Study();
        var deidentifier = For("project-a", new DeidentificationOptions { Dates = DateHandling.Shift });
        var results = ct.Append(seg).Select(deidentifier.Deidentify).ToList();
        static DateOnly Date(DicomDataset ds, DicomTag tag) => DateOnly.ParseExact(ds.GetString(tag), "yyyyMMdd");
        var shift = Date(results[0].Dataset, DicomTags.StudyDate).DayNumber - new DateOnly(2024, 1, 2).DayNumber;
        Assert.InRange(shift, -3650, -365);
        foreach (var r in results.Take(Slices))
        {
            Assert.Equal(shift, Date(r.Dataset, DicomTags.StudyDate).DayNumber - new DateOnly(2024, 1, 2).DayNumber);
            // Intervals survive: acquisition one day after the study, instance creation two days after.
            Assert.Equal(1, Date(r.Dataset, DicomTags.AcquisitionDate).DayNumber - Date(r.Dataset, DicomTags.StudyDate).DayNumber);
            Assert.Equal(2, Date(r.Dataset, DicomTags.InstanceCreationDate).DayNumber - Date(r.Dataset, DicomTags.StudyDate).DayNumber);
            Assert.Equal("084500", r.Dataset.GetString(DicomTags.AcquisitionTime)); // whole days: times of day stay
            Assert.Equal("MODIFIED", r.Dataset.GetString(DicomTags.LongitudinalTemporalInformationModified));
        }
        Assert.Equal(shift, Date(results[^1].Dataset, DicomTags.StudyDate).DayNumber - new DateOnly(2024, 1, 2).DayNumber);
        Assert.Contains("113107", results[0].Dataset.GetSequence(DicomTags.DeidentificationMethodCodeSequence).Items.Select(c => c.GetString(DicomTags.CodeValue)));
        // Another patient in the same target gets its own shift (with overwhelming probability), another target another one.
        var other = ct[0].Dataset.Clone();
        other.Set(DicomTags.PatientID, "MRN-000001");
        var otherShift = Date(deidentifier.Deidentify(other), DicomTags.StudyDate).DayNumber - new DateOnly(2024, 1, 2).DayNumber;
        var otherTarget = Date(For("project-b", new DeidentificationOptions { Dates = DateHandling.Shift }).Deidentify(ct[0].Dataset), DicomTags.StudyDate).DayNumber
            - new DateOnly(2024, 1, 2).DayNumber;
        Assert.False(otherShift == shift && otherTarget == shift);
    }

    [Fact]
    public void StreamingPathLeavesPixelDataInTheFile()
    {
        // 256² 16-bit = 128 KB of pixels: above the reader's 64 KB threshold, so the value stays in the file.
        var ct = SyntheticCt.Series(1, 256)[0];
        ct.Dataset.Set(DicomTags.PatientName, "Doe^Jane");
        using var dir = new ImagingTools.TempDir();
        var input = dir.File("in.dcm");
        ct.Save(input);

        var opened = DicomFile.Open(input);
        var pixel = (DicomValueElement)opened.Dataset[DicomTags.PixelData];
        Assert.IsType<FileRangeBuffer>(pixel.Buffer);
        For("project-a").DeidentifyInPlace(opened.Dataset);
        Assert.Same(pixel, opened.Dataset[DicomTags.PixelData]); // never read into memory

        using var output = new MemoryStream();
        For("project-a").DeidentifyFile(input, output);
        output.Position = 0;
        var result = DicomFile.Read(output);
        Assert.True(DeidentificationProbe.PixelBytes(ct.Dataset).AsSpan().SequenceEqual(DeidentificationProbe.PixelBytes(result.Dataset)));
        Assert.NotEqual("Doe^Jane", result.Dataset.GetString(DicomTags.PatientName));
        Assert.Equal(opened.Dataset.GetString(DicomTags.SOPInstanceUID), result.Dataset.GetString(DicomTags.SOPInstanceUID));
        Assert.Throws<DicomException>(() => For("project-a").DeidentifyFile(input, input)); // would overwrite the values it reads
    }

    [Fact]
    public void WellKnownUidsAndNestedPatientsAreHandled()
    {
        var ds = SyntheticCt.Series(1, 8)[0].Dataset;
        ds.Set(DicomTags.FrameOfReferenceUID, "1.2.840.10008.1.4.1.1"); // Talairach brain atlas frame of reference (PS3.16)
        var other = new DicomDataset();
        other.Set(DicomTags.PatientID, "OTHER-123456");
        other.Set(DicomTags.PatientName, "Roe^Richard");
        ds.SetSequence(DicomTags.SourcePatientGroupIdentificationSequence, other);
        var result = For("project-a").Deidentify(ds);
        Assert.Equal("1.2.840.10008.1.4.1.1", result.GetString(DicomTags.FrameOfReferenceUID));
        Assert.Equal(DicomUids.CTImageStorage, result.GetString(DicomTags.SOPClassUID));
        var nested = result.GetSequence(DicomTags.SourcePatientGroupIdentificationSequence).Items[0];
        Assert.Equal(new HmacDeidentificationMapping(Secret, "project-a").MapPatient("OTHER-123456").PatientId, nested.GetString(DicomTags.PatientID));
        Assert.DoesNotContain("Roe", nested.GetString(DicomTags.PatientName));
        Assert.NotEqual(result.GetString(DicomTags.PatientID), nested.GetString(DicomTags.PatientID));
    }

    [Fact]
    public void MappingIsDeterministicAndKeyedByTarget()
    {
        var a = new HmacDeidentificationMapping(Secret, "p1");
        Assert.Equal(a.MapUid("1.2.3.4"), new HmacDeidentificationMapping(Secret, "p1").MapUid("1.2.3.4"));
        Assert.NotEqual(a.MapUid("1.2.3.4"), new HmacDeidentificationMapping(Secret, "p2").MapUid("1.2.3.4"));
        Assert.NotEqual(a.MapUid("1.2.3.4"), new HmacDeidentificationMapping("another-secret-0123456789abcdef"u8, "p1").MapUid("1.2.3.4"));
        Assert.NotEqual(a.MapUid("1.2.3.4"), a.MapUid("1.2.3.5"));
        Assert.Equal(a.MapPatient("X"), new HmacDeidentificationMapping(Secret, "p1").MapPatient("X"));
        Assert.NotEqual(a.MapPatient("X").PatientId, a.MapPatient("Y").PatientId);
        Assert.Throws<ArgumentException>(() => new HmacDeidentificationMapping("short"u8, "p1"));
        Assert.Throws<ArgumentOutOfRangeException>(() => new HmacDeidentificationMapping(Secret, "p1", minShiftDays: 10, maxShiftDays: 5));
    }
}
