using System.Collections.Concurrent;
using System.Security.Cryptography;

namespace Kaapana.Core.Archive.Export;

/// <summary>Named in JSON ("Running"), so scripts polling <c>/api/exports/{token}</c> need no table of numbers.</summary>
[System.Text.Json.Serialization.JsonConverter(typeof(System.Text.Json.Serialization.JsonStringEnumConverter<ZipExportState>))]
public enum ZipExportState
{
    /// <summary>Token made, download not started yet.</summary>
    Waiting,
    Running,
    Done,
    Cancelled,
    Failed,
}

/// <summary>What a page polls about a download it started.</summary>
/// <param name="Owner">The user id that made the token: only that user can use or poll it (not shown in JSON).</param>
public sealed record ZipExportStatus(string Token, string Label, ZipExportState State, ZipExportProgress Progress, string? Error, DateTime UpdatedAt,
    [property: System.Text.Json.Serialization.JsonIgnore] string? Owner = null);

/// <summary>
/// Progress of zip downloads, in memory: the page creates a token, the download link carries it, the endpoint reports into
/// it and the page polls it. The browser's own download UI knows bytes only; this knows instances and totals. Entries are
/// forgotten an hour after their last update.
/// </summary>
public sealed class ZipExportRegistry(TimeProvider? time = null)
{
    private static readonly TimeSpan Keep = TimeSpan.FromHours(1);
    private readonly ConcurrentDictionary<string, ZipExportStatus> _exports = new(StringComparer.Ordinal);
    private readonly TimeProvider _time = time ?? TimeProvider.System;

    private DateTime Now => _time.GetUtcNow().UtcDateTime;

    /// <summary>A new unguessable token for one download of <paramref name="label"/> by <paramref name="owner"/> (a user id).</summary>
    public string Create(string label, int instancesTotal = 0, long bytesTotal = 0, string? owner = null)
    {
        Sweep();
        var token = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
        _exports[token] = new ZipExportStatus(token, label, ZipExportState.Waiting, new ZipExportProgress(0, instancesTotal, 0, bytesTotal), null, Now, owner);
        return token;
    }

    /// <summary>Tokens are 32 lowercase hex digits; anything else is refused before it reaches the dictionary.</summary>
    public static bool IsToken(string? token) => token is { Length: 32 } && token.All(c => char.IsAsciiHexDigitLower(c) || char.IsAsciiDigit(c));

    public ZipExportStatus? Get(string token) => _exports.GetValueOrDefault(token);

    /// <summary>The token's status when <paramref name="owner"/> made it; another user's token answers as an unknown one.</summary>
    public ZipExportStatus? GetFor(string token, string? owner) =>
        _exports.GetValueOrDefault(token) is { } s && owner is not null && string.Equals(s.Owner, owner, StringComparison.Ordinal) ? s : null;

    public void Report(string token, ZipExportProgress progress) => Update(token, s => s with { State = ZipExportState.Running, Progress = progress });

    public void Finish(string token, ZipExportState state, string? error = null) => Update(token, s => s with { State = state, Error = error });

    private void Update(string token, Func<ZipExportStatus, ZipExportStatus> change)
    {
        if (_exports.TryGetValue(token, out var s)) _exports[token] = change(s) with { UpdatedAt = Now };
    }

    private void Sweep()
    {
        var cutoff = Now - Keep;
        foreach (var (token, s) in _exports)
            if (s.UpdatedAt < cutoff) _exports.TryRemove(token, out _);
    }
}
