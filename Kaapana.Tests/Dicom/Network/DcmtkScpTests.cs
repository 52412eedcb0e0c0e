using Kaapana.Dicom;
using Kaapana.Dicom.Network;

namespace Kaapana.Tests.Dicom.Network;

/// <summary>Our SCU (<see cref="DicomClient"/>) against DCMTK's storescp (+xa: every syntax it supports; +B: writes exactly what it received).</summary>
public class DcmtkScpTests
{
    private static DicomClient ClientFor(StoreScpProcess scp) =>
        new(new DicomClientOptions { Host = "127.0.0.1", Port = scp.Port, CallingAE = "KAAPANA", CalledAE = "STORESCP" });

    [Fact]
    public async Task Echo_to_storescp()
    {
        using var tmp = new TempDir();
        await using var scp = await StoreScpProcess.StartAsync(tmp.Sub("out"));
        Assert.Equal(DicomStatus.Success, await ClientFor(scp).EchoAsync());
    }

    /// <summary>
    /// Every sample storescu can send, sent by our client in batches of distinct SOP Instance UIDs (storescp names files by
    /// UID). A file whose syntax storescp accepted travels byte for byte: storescp's bit-preserving copy holds exactly the
    /// data set bytes of the original. A file storescp took in another uncompressed syntax (big endian, deflated) was
    /// re-encoded by us: its data set must equal DCMTK's own conversion of the original.
    /// </summary>
    [Fact]
    public async Task Store_samples_to_storescp()
    {
        using var tmp = new TempDir();
        var outDir = tmp.Sub("out");
        await using var scp = await StoreScpProcess.StartAsync(outDir, "STORESCP", "+B");
        var client = ClientFor(scp);
        var remaining = SampleData.Sendable.ToList();
        int sent = 0, verbatim = 0;
        var converted = new List<(string, string)>();
        while (remaining.Count > 0)
        {
            var batch = remaining.GroupBy(s => s.SopInstanceUid).Select(g => g.First()).ToList();
            remaining = remaining.Except(batch).ToList();
            foreach (var f in Directory.GetFiles(outDir)) File.Delete(f);

            var results = await client.StoreFilesAsync(batch.Select(b => b.Path));
            Assert.Equal(batch.Count, results.Count);
            for (int i = 0; i < batch.Count; i++)
            {
                var sample = batch[i];
                var result = results[i];
                Assert.True(result.Succeeded, $"{sample.Name}: {result.Status} {result.Error}\n{scp.Log}");
                var received = Directory.GetFiles(outDir).SingleOrDefault(f => Path.GetFileName(f).EndsWith("." + sample.SopInstanceUid, StringComparison.Ordinal))
                    ?? throw new Xunit.Sdk.XunitException($"{sample.Name}: storescp wrote no file for {sample.SopInstanceUid}");
                var receivedSyntax = await SyntaxOfAsync(received);
                if (sample.Syntax.IsEncapsulated || sample.Syntax.Uid == DicomUids.ExplicitVRLittleEndian)
                    Assert.Equal(sample.Syntax.Uid, receivedSyntax); // storescp +xa takes these as they are
                if (receivedSyntax == sample.Syntax.Uid)
                {
                    Assert.True(await DatasetBytesEqualAsync(sample.Path, received), $"{sample.Name} was sent in its own syntax but arrived changed");
                    verbatim++;
                }
                else
                {
                    // storescp +xa prefers explicit VR little endian over implicit, big endian and deflated: we re-encoded.
                    Assert.False(sample.Syntax.IsEncapsulated, $"{sample.Name}: compressed data cannot have been converted");
                    var copy = Path.Combine(tmp.Path, $"converted-{sent}.dcm");
                    File.Copy(received, copy);
                    converted.Add((sample.Path, copy));
                }
                sent++;
            }
        }
        await SampleData.AssertSameDatasetsAsync(converted, tmp.Path);
        Assert.Equal(SampleData.Sendable.Count, sent);
        Assert.True(verbatim >= SampleData.Sendable.Count(s => s.Syntax.IsEncapsulated || s.Syntax.Uid == DicomUids.ExplicitVRLittleEndian));
    }

    private static async Task<string> SyntaxOfAsync(string path)
    {
        await using var fs = File.OpenRead(path);
        return (await DicomFileMeta.TryReadHeaderAsync(fs, CancellationToken.None))?.TransferSyntax.Uid ?? "";
    }

    /// <summary>A generated series in one association, streamed from disk; storescp's bit-preserving copies are byte-identical.</summary>
    [Fact]
    public async Task Store_generated_series_to_storescp()
    {
        using var tmp = new TempDir();
        var files = SampleData.WriteSyntheticCtSeries(tmp.Sub("series"), 20);
        var outDir = tmp.Sub("out");
        await using var scp = await StoreScpProcess.StartAsync(outDir, "STORESCP", "+B");
        var results = await ClientFor(scp).StoreFilesAsync(files);
        Assert.All(results, r => Assert.True(r.Succeeded, $"{r.Path}: {r.Status} {r.Error}"));
        Assert.Equal(20, Directory.GetFiles(outDir).Length);
        foreach (var f in files)
        {
            var uid = DicomFile.Open(f).Dataset.GetString(DicomTags.SOPInstanceUID);
            var received = Directory.GetFiles(outDir).Single(p => p.EndsWith("." + uid, StringComparison.Ordinal));
            Assert.True(await DatasetBytesEqualAsync(f, received), $"{f} differs from {received}");
        }
    }

    /// <summary>An in-memory <see cref="DicomFile"/> over an explicitly opened association: encoded, sent, identical on arrival.</summary>
    [Fact]
    public async Task Store_in_memory_file_over_an_explicit_association()
    {
        using var tmp = new TempDir();
        var outDir = tmp.Sub("out");
        await using var scp = await StoreScpProcess.StartAsync(outDir);
        var path = SampleData.WriteSyntheticCtSeries(tmp.Sub("src"), 1)[0];
        var file = DicomFile.Open(path);
        await using var association = await ClientFor(scp).ConnectAsync([
            new DicomPresentationContextRequest(DicomUids.Verification, DicomPresentationContextRequest.UncompressedTransferSyntaxes),
            new DicomPresentationContextRequest(DicomUids.CTImageStorage, DicomTransferSyntax.ImplicitVRLittleEndian),
        ]);
        Assert.Equal("STORESCP", association.CalledAE);
        Assert.True((await association.EchoAsync()).Status.IsSuccess);
        var rsp = await association.StoreAsync(file);
        Assert.Equal(DicomStatus.Success, rsp.Status);
        Assert.Equal(DimseCommandField.CStoreResponse, rsp.CommandField);
        await association.ReleaseAsync();
        Assert.Equal(DicomAssociationState.Closed, association.State);
        var received = Directory.GetFiles(outDir).Single();
        await SampleData.AssertSameDatasetAsync(path, received, tmp.Path); // arrived as implicit VR, the only syntax proposed
    }

    /// <summary>
    /// True when the data set parts (after the meta group) of two Part 10 files are the same bytes, allowing the one NUL byte
    /// we append to an odd-length original (image_dfl.dcm's deflated stream lacks the padding PS3.5 A.5 requires).
    /// </summary>
    private static async Task<bool> DatasetBytesEqualAsync(string a, string b)
    {
        static async Task<byte[]> DatasetBytes(string path)
        {
            await using var fs = File.OpenRead(path);
            var h = await DicomFileMeta.TryReadHeaderAsync(fs, CancellationToken.None)
                ?? throw new Xunit.Sdk.XunitException($"{path}: no meta header");
            var ms = new MemoryStream();
            await fs.CopyToAsync(ms);
            return ms.ToArray();
        }
        var (x, y) = (await DatasetBytes(a), await DatasetBytes(b));
        if (x.Length % 2 == 1 && y.Length == x.Length + 1 && y[^1] == 0) y = y[..^1];
        return x.AsSpan().SequenceEqual(y);
    }
}
