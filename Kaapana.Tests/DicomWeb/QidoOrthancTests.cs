using System.Text.Json.Nodes;
using Kaapana.Tests.Interop;

namespace Kaapana.Tests.DicomWeb;

/// <summary>
/// Orthanc's DICOMweb plugin as a client of our QIDO-RS (its <c>/dicom-web/servers/{name}/qido</c> proxy): it reads our
/// answers, empty ones (200 with <c>[]</c>) included, reached through <see cref="OrthancDicomWebClient"/>.
/// </summary>
public sealed class QidoOrthancTests(QidoFixture fx) : IClassFixture<QidoFixture>
{
    [Fact]
    public async Task Orthanc_dicomweb_client_reads_our_search_results_and_empty_answers()
    {
        await using var client = await OrthancDicomWebClient.StartAsync(fx.Server.BaseAddress);

        // Orthanc answers its own rendering of the DICOM JSON it received: tag -> { "Name", "vr", "Value" (text) }.
        async Task<JsonArray> Qido(string uri, JsonObject arguments) =>
            (await client.PostAsync($"dicom-web/servers/{OrthancDicomWebClient.ServerName}/qido", new JsonObject { ["Uri"] = uri, ["Arguments"] = arguments },
                () => fx.Server.Output))!.AsArray();

        var studies = await Qido("/studies", new JsonObject { ["PatientID"] = "PID-MUELLER" });
        var study = Assert.Single(studies)!;
        Assert.Equal("Müller^Hans", Value(study, "00100010"));
        Assert.Equal("PID-MUELLER", Value(study, "00100020"));
        var studyUid = Value(study, "0020000D");

        var series = await Qido($"/studies/{studyUid}/series", new JsonObject());
        Assert.Equal("CT", Value(Assert.Single(series)!, "00080060"));
        var instances = await Qido($"/studies/{studyUid}/series/{Value(series[0]!, "0020000E")}/instances", new JsonObject());
        Assert.Equal(fx.Instances.Where(i => i.Study == studyUid).Select(i => i.Sop).Order(), instances.Select(i => Value(i!, "00080018")).Order());

        var all = await Qido("/studies", new JsonObject { ["limit"] = "100" });
        Assert.Equal(fx.Instances.Select(i => i.Study).Distinct().Count(), all.Count);

        Assert.Empty(await Qido("/studies", new JsonObject { ["PatientID"] = "NOBODY" }));
    }

    private static string? Value(JsonNode result, string tag) => result[tag]?["Value"]?.ToString();
}
