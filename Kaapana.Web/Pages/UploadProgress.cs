using System.Text.Json;

namespace Kaapana.Web.Pages;

public enum UploadState
{
    Queued,
    Uploading,
    Done,

    /// <summary>No answer the server could give per file (connection lost, 401, 500...).</summary>
    Failed,
}

/// <summary>One result line of an upload: a file, or an entry of an uploaded zip, with the server's verdict.</summary>
public sealed record UploadFileResult(string Name, string Status, string? Reason)
{
    public bool Accepted => Status is "stored" or "duplicate";
}

/// <summary>One file the browser sends (a loose file or a whole zip).</summary>
public sealed class UploadItem(int id, string name, long size)
{
    public int Id { get; } = id;
    public string Name { get; } = name;
    public long Size { get; } = size;
    public long Loaded { get; set; }
    public UploadState State { get; set; } = UploadState.Queued;

    /// <summary>What the server said about it (a zip lists its entries); empty until done.</summary>
    public List<UploadFileResult> Results { get; } = [];

    /// <summary>Why the request as a whole failed, if it did.</summary>
    public string? Error { get; set; }

    public double Percent => Size <= 0 ? (State is UploadState.Done or UploadState.Failed ? 100 : 0) : Math.Min(100, 100.0 * Loaded / Size);
}

/// <summary>
/// The upload page's state: the files of every drop or choice, their progress as the browser reports it, and the per-file
/// results parsed from <c>/api/uploads</c> answers (200, 207, 400 and 507 carry <c>files</c>; other errors a ProblemDetails).
/// </summary>
public sealed class UploadProgress
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
    private readonly Dictionary<int, UploadItem> _byId = [];

    public List<UploadItem> Items { get; } = [];

    public long TotalBytes => Items.Sum(i => i.Size);
    public long LoadedBytes => Items.Sum(i => Math.Min(i.Loaded, i.Size));
    public double OverallPercent => TotalBytes == 0 ? (Items.Count > 0 && Items.All(i => i.State >= UploadState.Done) ? 100 : 0) : 100.0 * LoadedBytes / TotalBytes;
    public bool Busy => Items.Any(i => i.State is UploadState.Queued or UploadState.Uploading);
    public int AcceptedCount => Items.Sum(i => i.Results.Count(r => r.Accepted));
    public int RejectedCount => Items.Sum(i => i.Results.Count(r => !r.Accepted)) + Items.Count(i => i.State == UploadState.Failed && i.Results.Count == 0);

    public void Queue(int id, string name, long size)
    {
        var item = new UploadItem(id, name, size);
        _byId[id] = item;
        Items.Add(item);
    }

    public void Report(int id, long loaded)
    {
        if (!_byId.TryGetValue(id, out var item) || item.State >= UploadState.Done) return;
        item.Loaded = loaded;
        item.State = UploadState.Uploading;
    }

    /// <param name="httpStatus">0 when the request did not reach the server (then <paramref name="body"/> is the browser's reason).</param>
    public void Complete(int id, int httpStatus, string body)
    {
        if (!_byId.TryGetValue(id, out var item)) return;
        item.Loaded = item.Size;
        item.Results.Clear();
        if (httpStatus == 0)
        {
            item.State = UploadState.Failed;
            item.Error = body;
            return;
        }
        Answer? answer = null;
        try
        {
            answer = JsonSerializer.Deserialize<Answer>(body, Json);
        }
        catch (JsonException)
        {
        }
        if (answer?.Files is { Count: > 0 } files)
        {
            item.Results.AddRange(files.Select(f => new UploadFileResult(f.Name ?? item.Name, f.Status ?? "rejected", f.Reason)));
            item.State = UploadState.Done;
            // A damaged body (400 with files) still says why the rest is missing.
            item.Error = answer.Detail;
            return;
        }
        item.State = UploadState.Failed;
        item.Error = answer?.Detail ?? answer?.Title ?? httpStatus switch
        {
            401 or 403 => "Not signed in or not allowed to upload.",
            413 => "The file is too large for the server.",
            _ => $"The server answered HTTP {httpStatus}.",
        };
    }

    public void Clear()
    {
        Items.RemoveAll(i => !(i.State is UploadState.Queued or UploadState.Uploading));
        foreach (var id in _byId.Keys.Where(k => Items.All(i => i.Id != k)).ToList()) _byId.Remove(id);
    }

    private sealed record Answer(List<AnswerFile>? Files, string? Title, string? Detail);

    private sealed record AnswerFile(string? Name, string? Status, string? Reason);
}
