using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Kaapana.Core.Archive.Export;
using Kaapana.Core.Archive.Index;
using Kaapana.Core.Workflows.Manifest;
using Microsoft.EntityFrameworkCore;

namespace Kaapana.Core.Workflows.BuiltIn;

/// <summary>
/// <c>builtin/zip-export</c>: the whole input as one zip (dataset scope: one item per run), written by <see cref="SeriesZipWriter"/>
/// and kept as the run's downloadable artifact <c>export.zip</c> with its size and SHA-256.
/// <para>The writer exports the series as they are in the archive now; an instance of the frozen input whose file is gone fails
/// the item (a partial export would look complete).</para>
/// </summary>
public sealed class ZipExportWorkflow(IDbContextFactory<KaapanaDbContext> dbFactory, SeriesZipWriter writer, WorkflowPaths paths) : IBuiltInWorkflow
{
    public const string ArtifactName = "export.zip";

    public AlgorithmManifest Manifest { get; } = new()
    {
        Name = "builtin/zip-export", Version = "1.0.0", Title = "Export as zip", Image = "builtin/zip-export",
        Description = "Writes the input series as one zip file (PatientID/StudyUID/SeriesUID/SOPInstanceUID.dcm), downloadable from the run's results.",
        Input = new InputSpec { Scope = InputScope.Dataset },
        Outputs = [OutputKind.Files, OutputKind.Metrics],
    };

    public async Task<BuiltInResult> ExecuteAsync(BuiltInContext context, CancellationToken ct)
    {
        var series = context.Input.Select(i => i.Series).Distinct(StringComparer.Ordinal).ToList();
        var dir = paths.ArtifactDir(context.Run.Id, context.Item.Id);
        Directory.CreateDirectory(dir);
        var target = Path.Combine(dir, ArtifactName);
        var partial = target + ".partial";
        ZipExportSummary summary;
        string hash;
        await using (var file = new FileStream(partial, FileMode.Create, FileAccess.ReadWrite, FileShare.None, 1 << 16, FileOptions.Asynchronous))
        {
            // Hash while writing so the file is read once.
            using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            await using var hashing = new HashingStream(file, sha);
            summary = await writer.WriteAsync(series, hashing, ct: ct);
            hash = Convert.ToHexStringLower(sha.GetHashAndReset());
        }
        var metrics = new JsonObject { ["series"] = summary.Series, ["instances"] = summary.Instances, ["bytes"] = summary.Bytes };
        var frozen = context.Input.Select(i => i.Sop).ToHashSet(StringComparer.Ordinal);
        var missing = summary.MissingFiles.Where(frozen.Contains).ToList();
        if (missing.Count > 0)
        {
            File.Delete(partial);
            return BuiltInResult.Fail($"{missing.Count} instances of the input have no file in the archive (e.g. {missing[0]}); run the consistency check", metrics);
        }
        File.Move(partial, target, overwrite: true);
        await context.Log($"wrote {ArtifactName}: {summary.Series} series, {summary.Instances} instances, {summary.Bytes} bytes of DICOM, sha256 {hash}");
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        db.RunArtifacts.Add(new RunArtifact
        {
            RunId = context.Run.Id, RunItemId = context.Item.Id, Name = ArtifactName, StoragePath = paths.Relative(target),
            Size = new FileInfo(target).Length, Sha256 = hash, CreatedAt = DateTime.UtcNow,
        });
        await db.SaveChangesAsync(ct);
        return BuiltInResult.Ok(metrics);
    }

    /// <summary>Write-only pass-through that feeds every byte to a hash; the zip writer needs no seeking (it streams to HTTP too).</summary>
    private sealed class HashingStream(Stream inner, IncrementalHash hash) : Stream
    {
        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => _position; set => throw new NotSupportedException(); }
        private long _position;

        public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            hash.AppendData(buffer);
            inner.Write(buffer);
            _position += buffer.Length;
        }

        public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            hash.AppendData(buffer.Span);
            await inner.WriteAsync(buffer, cancellationToken);
            _position += buffer.Length;
        }

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override void Flush() => inner.Flush();
        public override Task FlushAsync(CancellationToken cancellationToken) => inner.FlushAsync(cancellationToken);
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
    }
}
