using System.Globalization;
using Kaapana.Dicom;
using Kaapana.Tests.Archive;
using Kaapana.Tests.Archive.Dicom;

namespace Kaapana.Tests.DicomWeb;

/// <summary>
/// The real server (child process) seeded over DICOM with storescu: 3 generated patients (Qido^P0..2) x 2 studies (20240101,
/// 20240102) x 2 series (CT, MR) x 3 instances, one patient Müller^Hans (study 20231231, CT, 2 instances), and pydicom sample
/// files. <see cref="Instances"/> describes what was sent, to state expected counts independently of the server.
/// </summary>
public sealed class QidoFixture() : DicomWebServerFixture("qido")
{
    public const string PydicomFiles = "/usr/lib/python3/dist-packages/pydicom/data/test_files";
    public static readonly string[] Samples = ["CT_small.dcm", "MR_small.dcm", "rtplan.dcm", "rtdose.dcm", "test-SR.dcm", "waveform_ecg.dcm"];

    public sealed record Sent(string Patient, string PatientName, string Study, string StudyDate, string Series, string Modality, string Sop,
        string SopClass, string InstanceNumber);

    public List<Sent> Instances { get; } = [];

    protected override async Task SeedAsync()
    {
        foreach (var f in Samples)
            Assert.True(File.Exists(Path.Combine(PydicomFiles, f)), $"{f} missing: install the Debian package 'python3-pydicom'.");

        var send = Path.Combine(Root, "send");
        var files = DicomReceiverTests.Generate(send, patients: 3, studies: 2, series: 2, instances: 3, namePrefix: "Qido^P");
        var study = TestInstances.NewUid();
        var series = TestInstances.NewUid();
        for (int i = 1; i <= 2; i++)
        {
            var sop = TestInstances.NewUid();
            var path = Path.Combine(send, sop + ".dcm");
            File.WriteAllBytes(path, TestInstances.Create(new TestInstances.Spec("PID-MUELLER", "Müller^Hans", study, series, sop, InstanceNumber: i,
                StudyDate: "20231231")));
            files.Add(path);
        }
        foreach (var f in Samples)
        {
            var copy = Path.Combine(send, f);
            File.Copy(Path.Combine(PydicomFiles, f), copy);
            files.Add(copy);
        }
        foreach (var f in files)
        {
            var ds = DicomFile.Open(f, new DicomReadOptions { StopBeforePixelData = true }).Dataset;
            Instances.Add(new Sent(ds.GetString(DicomTags.PatientID).Trim(), ds.GetString(DicomTags.PatientName), ds.GetString(DicomTags.StudyInstanceUID),
                ds.GetString(DicomTags.StudyDate), ds.GetString(DicomTags.SeriesInstanceUID), ds.GetString(DicomTags.Modality),
                ds.GetString(DicomTags.SOPInstanceUID), ds.GetString(DicomTags.SOPClassUID), ds.GetString(DicomTags.InstanceNumber).Trim()));
        }
        var r = await DicomTools.RunAsync("storescu", "-v", "-aec", "KAAPANA", "+sd", "127.0.0.1", Server.DicomPort.ToString(CultureInfo.InvariantCulture), send);
        Assert.True(r.ExitCode == 0 && DicomReceiverTests.CountSuccess(r.Output) == files.Count, $"storescu: {r}\n{Server.Output}");
    }
}
