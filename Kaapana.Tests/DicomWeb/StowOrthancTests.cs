using System.Text.Json.Nodes;
using Kaapana.Tests.Archive;
using Kaapana.Tests.Interop;
using Microsoft.EntityFrameworkCore;

namespace Kaapana.Tests.DicomWeb;

/// <summary>
/// Orthanc's DICOMweb plugin as a real STOW-RS client (<see cref="OrthancDicomWebClient"/>): it sends a study it holds to our /dicomweb.
/// </summary>
public sealed class StowOrthancTests(StowServerFixture fixture)
    : IClassFixture<StowServerFixture>
{
    [Fact]
    public async Task Orthanc_stows_a_study_into_the_archive_byte_identical()
    {
        await using var client = await OrthancDicomWebClient.StartAsync(fixture.Server.BaseAddress);
        var orthanc = client.Orthanc;

        var study = TestInstances.NewUid();
        var series = TestInstances.NewUid();
        var sent = new Dictionary<string, byte[]>();
        string? orthancStudy = null;
        for (int i = 0; i < 3; i++)
        {
            var sop = TestInstances.NewUid();
            sent[sop] = TestInstances.Create(new TestInstances.Spec("PID-ORTHANC", "Orthanc^Stow", study, series, sop, InstanceNumber: i + 1, Size: 64));
            var id = await orthanc.UploadAsync(sent[sop]);
            orthancStudy ??= (await orthanc.GetJsonAsync($"instances/{id}/study"))!["ID"]!.GetValue<string>();
        }

        await client.PostAsync($"dicom-web/servers/{OrthancDicomWebClient.ServerName}/stow", new JsonObject { ["Resources"] = new JsonArray(orthancStudy) },
            () => fixture.Server.Output);

        await using var db = fixture.Server.OpenIndex();
        var rows = await db.Instances.AsNoTracking().Where(i => i.Series.SeriesInstanceUID == series).Select(i => new { i.SOPInstanceUID, i.StoragePath, i.Source }).ToListAsync();
        Assert.Equal(sent.Keys.Order(), rows.Select(r => r.SOPInstanceUID).Order());
        foreach (var r in rows)
        {
            Assert.Equal(Core.Archive.Index.IngestSource.Stow, r.Source);
            // Orthanc sends its stored file, which is what we uploaded to it.
            var stored = await File.ReadAllBytesAsync(Path.Combine(fixture.Server.ArchiveDir, r.StoragePath));
            Assert.True(sent[r.SOPInstanceUID].AsSpan().SequenceEqual(stored),
                $"{r.SOPInstanceUID} not stored byte-identical");
        }
    }
}
