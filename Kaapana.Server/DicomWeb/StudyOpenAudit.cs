using System.Collections.Concurrent;
using Kaapana.Core.Access;
using Kaapana.Core.Audit;

namespace Kaapana.Server.DicomWeb;

/// <summary>
/// Writes "study opened" to the audit trail when a caller reads a study's data or metadata over WADO-RS (what the viewer
/// does). A viewer fetches metadata per series and then hundreds of frames, so an entry is written once per user and
/// study per <see cref="Window"/>, not per request; frames and rendered images are covered by that entry.
/// </summary>
public sealed class StudyOpenAudit(IAuditTrail audit, TimeProvider? time = null)
{
    public static readonly TimeSpan Window = TimeSpan.FromMinutes(5);
    private const int PruneAbove = 10_000;

    private readonly TimeProvider _time = time ?? TimeProvider.System;
    private readonly ConcurrentDictionary<(string Actor, string Study), DateTimeOffset> _last = new();

    public void Opened(AccessScope scope, string studyInstanceUid, string resource, HttpContext http)
    {
        var now = _time.GetUtcNow();
        var key = (scope.Actor, studyInstanceUid);
        // Compare-and-swap, so of concurrent first reads (a viewer fetches series metadata in parallel) exactly one records.
        while (true)
        {
            if (_last.TryGetValue(key, out var last))
            {
                if (now - last < Window) return;
                if (_last.TryUpdate(key, now, last)) break;
            }
            else if (_last.TryAdd(key, now))
            {
                break;
            }
        }
        audit.Record(new AuditEvent(scope.Actor, AuditActions.StudyOpened, "study:" + studyInstanceUid, AuditOutcomes.Success,
            http.Connection.RemoteIpAddress?.ToString(), new { resource, tokenId = scope.TokenId }));
        if (_last.Count > PruneAbove) Prune(now);
    }

    // Entries older than the window no longer suppress anything; dropping them keeps the map as small as the active sessions.
    private void Prune(DateTimeOffset now)
    {
        foreach (var (key, at) in _last)
            if (now - at >= Window) _last.TryRemove(new KeyValuePair<(string, string), DateTimeOffset>(key, at));
    }
}
