using Kaapana.Dicom;
using Kaapana.Tests.Dicom.Conformance;

namespace Kaapana.Tests.Dicom.Data;

/// <summary>
/// TryGet must answer true/false for any stored value and any supported type — never throw — so callers can probe real-world
/// values (malformed dates, numbers in text VRs, odd-length binary values) safely.
/// </summary>
public class TypedAccessRobustnessTests
{
    private static void ProbeAll(DicomDataset ds, ref int probes)
    {
        foreach (var e in ds)
        {
            if (e is DicomSequence sq)
            {
                foreach (var item in sq.Items) ProbeAll(item, ref probes);
                continue;
            }
            if (e is not DicomValueElement v || v.Length > 4096 || !v.Buffer.IsInMemory) continue;
            var tag = e.Tag;
            int n = Math.Min(ds.GetValueCount(tag), 4);
            for (int i = -1; i <= n; i++)
            {
                ds.TryGet<string>(tag, i, out _);
                ds.TryGet<int>(tag, i, out _);
                ds.TryGet<ushort>(tag, i, out _);
                ds.TryGet<ulong>(tag, i, out _);
                ds.TryGet<double>(tag, i, out _);
                ds.TryGet<decimal>(tag, i, out _);
                ds.TryGet<DateOnly>(tag, i, out _);
                ds.TryGet<TimeOnly>(tag, i, out _);
                ds.TryGet<DateTime>(tag, i, out _);
                ds.TryGet<DateTimeOffset>(tag, i, out _);
                ds.TryGet<DicomPersonName>(tag, i, out _);
                ds.TryGet<DicomTag>(tag, i, out _);
                probes += 12;
            }
        }
    }

    [Fact]
    public void TryGet_never_throws_on_sample_files()
    {
        int probes = 0;
        foreach (var sample in SampleFiles.Parsed)
        {
            ProbeAll(sample.File!.FileMetaInfo, ref probes);
            ProbeAll(sample.File!.Dataset, ref probes);
        }
        Assert.True(probes > 10_000, $"only {probes} probes");
    }

    [Theory]
    [InlineData(DicomVR.DA, "2024")]
    [InlineData(DicomVR.DA, "99999999")]
    [InlineData(DicomVR.TM, "256199.9999999")]
    [InlineData(DicomVR.DT, "0000")]
    [InlineData(DicomVR.DT, "20240101-")]
    [InlineData(DicomVR.DS, "1e999")]
    [InlineData(DicomVR.DS, "NaN")]
    [InlineData(DicomVR.IS, "99999999999999999999999")]
    [InlineData(DicomVR.PN, "a^b^c^d^e^f^g=h=i=j")]
    [InlineData(DicomVR.AS, "\\\\\\")]
    public void TryGet_never_throws_on_malformed_text(DicomVR vr, string raw)
    {
        var tag = new DicomTag(0x0011, 0x1001);
        var ds = new DicomDataset().Set(new DicomTag(0x0011, 0x0010), DicomVR.LO, "T")
            .SetBytes(tag, vr, System.Text.Encoding.ASCII.GetBytes(raw));
        int probes = 0;
        ProbeAll(ds, ref probes);
        Assert.True(probes > 0);
    }
}
