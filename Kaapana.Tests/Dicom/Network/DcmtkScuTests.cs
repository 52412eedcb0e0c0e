using Kaapana.Dicom;
using Kaapana.Dicom.Network;

namespace Kaapana.Tests.Dicom.Network;

/// <summary>Our SCP (<see cref="DicomServer"/>) against DCMTK's echoscu and storescu.</summary>
public class DcmtkScuTests
{
    [Fact]
    public async Task Echoscu_succeeds()
    {
        await using var s = await TestServer.StartAsync();
        var r = await Dcmtk.RunAsync("echoscu", ["-v", "-aet", "ECHOSCU", "-aec", "KAAPANA", "127.0.0.1", s.Port.ToString()]);
        Assert.True(r.ExitCode == 0, r.Output);
        Assert.Contains("Received Echo Response (Success)", r.Output);
        await s.AssertNoConnectionsAsync();
    }

    /// <summary>
    /// Every uncompressed sample, sent by storescu with each uncompressed flag to a server that accepts only the syntax under
    /// test (so storescu must convert every file to it): data sets arrive as DCMTK sent them, in order.
    /// </summary>
    [Theory]
    [InlineData("-xi", "1.2.840.10008.1.2")]
    [InlineData("-xe", "1.2.840.10008.1.2.1")]
    [InlineData("-xb", "1.2.840.10008.1.2.2")]
    [InlineData("-xd", "1.2.840.10008.1.2.1.99")]
    public async Task Storescu_uncompressed_samples_in_each_syntax(string flag, string syntax)
    {
        await SendSamplesAsync(flag, SampleData.Uncompressed, o => o.TransferSyntaxes = [syntax], expectedSyntax: syntax);
    }

    /// <summary>Compressed samples sent as they are, with storescu's flag for their syntax: accepted as-is and stored unchanged.</summary>
    [Theory]
    [InlineData("-xr")]
    [InlineData("-xs")]
    [InlineData("-xy")]
    [InlineData("-xx")]
    [InlineData("-xv")]
    [InlineData("-xw")]
    [InlineData("-xt")]
    public async Task Storescu_compressed_samples_as_is(string flag)
    {
        var samples = SampleData.CompressedFor(flag);
        Assert.NotEmpty(samples);
        await SendSamplesAsync(flag, samples, null, expectedSyntax: null);
    }

    /// <summary>JPEG-LS near-lossless: no pydicom sample has it, so one is made with dcmcjpls from a generated CT image.</summary>
    [Fact]
    public async Task Storescu_jpeg_ls_lossy_as_is()
    {
        using var tmp = new TempDir();
        var source = SampleData.WriteSyntheticCtSeries(tmp.Sub("src"), 1)[0];
        var file = Path.Combine(tmp.Path, "ct_jls_near.dcm");
        var r = await Dcmtk.RunAsync("dcmcjpls", ["+en", source, file]);
        Assert.True(r.ExitCode == 0, r.Output);
        using var fs = File.OpenRead(file);
        var h = (await DicomFileMeta.TryReadHeaderAsync(fs, CancellationToken.None))!;
        Assert.Equal("1.2.840.10008.1.2.4.81", h.TransferSyntax.Uid);
        await SendSamplesAsync("-xu", [new SampleData.Sample(file, h.SopClassUid, h.SopInstanceUid, h.TransferSyntax)], null, null);
    }

    private static async Task SendSamplesAsync(string flag, IReadOnlyList<SampleData.Sample> samples, Action<DicomServerOptions>? configure, string? expectedSyntax)
    {
        await using var s = await TestServer.StartAsync(configure);
        var args = new List<string> { flag, "-aet", "STORESCU", "-aec", "KAAPANA", "127.0.0.1", s.Port.ToString() };
        args.AddRange(samples.Select(x => x.Path));
        var r = await Dcmtk.RunAsync("storescu", args);
        Assert.True(r.ExitCode == 0, $"storescu {flag} failed:\n{r.Output}\n{string.Join("\n", s.Logs.Lines(Microsoft.Extensions.Logging.LogLevel.Information))}");
        var received = s.Store.Ordered;
        Assert.Equal(samples.Count, received.Count);
        for (int i = 0; i < samples.Count; i++)
        {
            var sent = samples[i];
            var got = received[i];
            Assert.Equal(sent.SopInstanceUid, got.SopInstanceUid);
            Assert.Equal(sent.SopClassUid, got.SopClassUid);
            Assert.Equal("STORESCU", got.CallingAE);
            Assert.Equal(expectedSyntax ?? sent.Syntax.Uid, got.TransferSyntaxUid);
        }
        await SampleData.AssertSameDatasetsAsync(samples.Select((x, i) => (x.Path, received[i].Path)).ToList(), s.Directory);
        await s.AssertNoConnectionsAsync();
    }

    /// <summary>A generated 50-instance CT series, sent by 4 storescu processes at once over 4 associations.</summary>
    [Fact]
    public async Task Storescu_four_concurrent_senders_of_a_generated_series()
    {
        using var tmp = new TempDir();
        var files = SampleData.WriteSyntheticCtSeries(tmp.Sub("series"), 50);
        await using var s = await TestServer.StartAsync(o => o.MaxAssociations = 8);
        var groups = files.Select((f, i) => (f, i)).GroupBy(x => x.i % 4, x => x.f).ToList();
        var runs = groups.Select(g =>
        {
            var args = new List<string> { "-aet", $"SENDER{g.Key}", "-aec", "KAAPANA", "127.0.0.1", s.Port.ToString() };
            args.AddRange(g);
            return Dcmtk.RunAsync("storescu", args);
        }).ToList();
        var results = await Task.WhenAll(runs);
        foreach (var r in results) Assert.True(r.ExitCode == 0, r.Output);

        var received = s.Store.Ordered;
        Assert.Equal(50, received.Count);
        Assert.Equal(4, received.Select(x => x.CallingAE).Distinct().Count());
        var byUid = received.ToDictionary(x => x.SopInstanceUid);
        var pairs = new List<(string, string)>();
        foreach (var f in files)
        {
            var uid = DicomFile.Open(f, new DicomReadOptions { StopBeforePixelData = true }).Dataset.GetString(DicomTags.SOPInstanceUID);
            Assert.True(byUid.TryGetValue(uid, out var got), $"{f} ({uid}) did not arrive");
            pairs.Add((f, got!.Path));
        }
        await SampleData.AssertSameDatasetsAsync(pairs, s.Directory);
        await s.AssertNoConnectionsAsync();
    }
}
