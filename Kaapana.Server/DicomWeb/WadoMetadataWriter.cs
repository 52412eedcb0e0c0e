using System.Globalization;
using System.Text.Json;
using Kaapana.Core.Archive.Retrieve;
using Kaapana.Dicom;
using Kaapana.Dicom.Json;

namespace Kaapana.Server.DicomWeb;

/// <summary>
/// WADO-RS metadata (PS3.18 10.4.1.1.2): one DICOM JSON array of the instances' headers, written instance by instance to
/// the response pipe. Only headers are read (the reader stops before Pixel Data and leaves other large values in the file);
/// binary values over <see cref="InlineLimit"/> bytes and Pixel Data get a BulkDataURI under the instance's
/// <c>bulkdata/</c> resource instead of their bytes.
/// </summary>
public static class WadoMetadataWriter
{
    /// <summary>Binary values up to this size are written inline (base64); longer ones by reference.</summary>
    public const long InlineLimit = 1024;

    public static async Task WriteAsync(HttpContext context, IInstanceRetrieval retrieval, IReadOnlyList<StoredInstance> instances,
        string baseUri, ILogger logger, CancellationToken ct)
    {
        context.Response.ContentType = "application/dicom+json";
        var pipe = context.Response.BodyWriter;
        await using var w = new Utf8JsonWriter(pipe, DicomJsonWriter.CreateWriterOptions());
        w.WriteStartArray();
        foreach (var instance in instances)
        {
            DicomDataset header;
            try
            {
                header = ReadHeader(retrieval, instance, InstanceUri(baseUri, instance));
            }
            catch (Exception ex) when (ex is DicomException or IOException)
            {
                // One unreadable file must not cost the client the rest of the series.
                logger.LogWarning(ex, "Metadata of {Sop} left out: its file could not be read", instance.SOPInstanceUID);
                continue;
            }
            var uri = InstanceUri(baseUri, instance);
            var paths = BulkPaths(header);
            DicomJsonWriter.Write(w, header, new DicomJsonWriteOptions
            {
                BulkDataUriProvider = e => paths.TryGetValue(e, out var p) ? $"{uri}/bulkdata/{p}" : null,
            });
            await w.FlushAsync(ct);
            await pipe.FlushAsync(ct);
        }
        w.WriteEndArray();
        await w.FlushAsync(ct);
    }

    public static string InstanceUri(string baseUri, StoredInstance i) =>
        $"{baseUri}/studies/{i.StudyInstanceUID}/series/{i.SeriesInstanceUID}/instances/{i.SOPInstanceUID}";

    /// <summary>
    /// The header without the file meta group, plus a Pixel Data element that only refers to its bulk data (the read
    /// stopped before it, so its VR is inferred: OB when encapsulated or 8-bit, OW otherwise, as PS3.5 8.2 prescribes).
    /// </summary>
    public static DicomDataset ReadHeader(IInstanceRetrieval retrieval, StoredInstance instance, string instanceUri)
    {
        var file = retrieval.Read(instance, stopBeforePixelData: true, largeValueThreshold: InlineLimit);
        var ds = file.Dataset;
        if (file.IsPartial && ds.Contains(DicomTags.Rows))
        {
            var vr = file.TransferSyntax.IsEncapsulated || ds.GetOrDefault(DicomTags.BitsAllocated, 16) <= 8 ? DicomVR.OB : DicomVR.OW;
            ds.Set(new DicomValueElement(DicomTags.PixelData, vr, new BulkDataUriBuffer($"{instanceUri}/bulkdata/{Tag(DicomTags.PixelData)}")));
        }
        return ds;
    }

    private static string Tag(DicomTag t) => t.Value.ToString("X8", CultureInfo.InvariantCulture);

    /// <summary>Every element that goes by reference, with its path: <c>TAG</c> or <c>TAG/ITEM/TAG...</c> (items counted from 1).</summary>
    public static Dictionary<DicomElement, string> BulkPaths(DicomDataset ds)
    {
        var result = new Dictionary<DicomElement, string>(ReferenceEqualityComparer.Instance);
        Collect(ds, "", result);
        return result;
    }

    private static void Collect(DicomDataset ds, string prefix, Dictionary<DicomElement, string> result)
    {
        foreach (var e in ds)
        {
            switch (e)
            {
                case DicomSequence sq:
                    for (int i = 0; i < sq.Items.Count; i++) Collect(sq.Items[i], $"{prefix}{Tag(e.Tag)}/{i + 1}/", result);
                    break;
                case DicomFragmentSequence:
                    result[e] = prefix + Tag(e.Tag);
                    break;
                case DicomValueElement { Buffer: not BulkDataUriBuffer } v when v.VR.IsBulk() && v.Length > InlineLimit:
                    result[e] = prefix + Tag(e.Tag);
                    break;
            }
        }
    }

    /// <summary>Finds the element a bulk data path names; null when the path is malformed or leads nowhere.</summary>
    public static DicomElement? Resolve(DicomDataset ds, string path)
    {
        var parts = path.Trim('/').Split('/');
        if (parts.Length % 2 == 0) return null;
        var current = ds;
        for (int i = 0; ; i += 2)
        {
            if (!uint.TryParse(parts[i], NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var tag) || parts[i].Length != 8) return null;
            if (!current.TryGetElement(new DicomTag((ushort)(tag >> 16), (ushort)tag), out var e)) return null;
            if (i == parts.Length - 1) return e;
            if (e is not DicomSequence sq || !int.TryParse(parts[i + 1], NumberStyles.None, CultureInfo.InvariantCulture, out var item)
                || item < 1 || item > sq.Items.Count) return null;
            current = sq.Items[item - 1];
        }
    }
}
