using Kaapana.Core.Audit;
using Kaapana.Dicom.Network;

namespace Kaapana.Core.Access.Dicom;

/// <summary>
/// One association's record (scoped: one instance per association, shared by the policy and the handlers): the access
/// decision (read by the handlers as a second check), and what was stored, queried and retrieved. The acceptance or
/// rejection is recorded at once; the summary when the association's scope ends. Recording never blocks: the audit
/// trail queues it.
/// </summary>
public sealed class DicomAssociationAudit(IAuditTrail audit) : IAsyncDisposable
{
    private readonly object _gate = new();
    private AssociationRequestInfo? _request;
    private int _stored, _storeFailures;
    private readonly SortedSet<string> _storedStudies = new(StringComparer.Ordinal);
    private readonly List<object> _queries = [];
    private readonly Dictionary<string, (SortedSet<string> Studies, int Instances, HashSet<string> Destinations)> _retrieved = [];

    /// <summary>The services granted at association time; <see cref="DimseServiceRights.All"/> when no policy ran (e.g. no access control configured).</summary>
    public DimseServiceRights Rights { get; private set; } = DimseServiceRights.All;

    public void Begin(AssociationRequestInfo request, AssociationPolicyDecision decision)
    {
        _request = request;
        Rights = decision.Rights;
        audit.Record(new AuditEvent(request.CallingAE,
            decision.Accepted ? AuditActions.DicomAssociationAccepted : AuditActions.DicomAssociationRejected,
            request.CalledAE, decision.Accepted ? AuditOutcomes.Success : AuditOutcomes.Denied, request.Remote?.Address.ToString(),
            new { calledAE = request.CalledAE, rights = decision.Rights.ToString(), reason = decision.Reason }));
        if (!decision.Accepted) _request = null; // nothing more to summarise
    }

    public void Stored(string? studyInstanceUid, bool success)
    {
        lock (_gate)
        {
            if (!success)
            {
                _storeFailures++;
                return;
            }
            _stored++;
            if (!string.IsNullOrEmpty(studyInstanceUid)) _storedStudies.Add(studyInstanceUid);
        }
    }

    public void Queried(string level, IReadOnlyDictionary<string, string> keys, int matches)
    {
        lock (_gate) _queries.Add(new { level, keys, matches });
    }

    /// <param name="operation">"move" or "get".</param>
    public void Retrieved(string operation, string? destination, string studyInstanceUid)
    {
        lock (_gate)
        {
            if (!_retrieved.TryGetValue(operation, out var r)) _retrieved[operation] = r = (new SortedSet<string>(StringComparer.Ordinal), 0, []);
            r.Studies.Add(studyInstanceUid);
            if (destination is not null) r.Destinations.Add(destination);
            _retrieved[operation] = r with { Instances = r.Instances + 1 };
        }
    }

    public ValueTask DisposeAsync()
    {
        if (_request is not { } rq) return ValueTask.CompletedTask;
        var address = rq.Remote?.Address.ToString();
        lock (_gate)
        {
            if (_stored + _storeFailures > 0)
                audit.Record(new AuditEvent(rq.CallingAE, AuditActions.DicomStore, Targets(_storedStudies), _storeFailures == 0 ? AuditOutcomes.Success : AuditOutcomes.Partial,
                    address, new { calledAE = rq.CalledAE, instances = _stored, failures = _storeFailures, studies = _storedStudies }));
            if (_queries.Count > 0)
                audit.Record(new AuditEvent(rq.CallingAE, AuditActions.DicomFind, rq.CalledAE, AuditOutcomes.Success, address,
                    new { calledAE = rq.CalledAE, queries = _queries }));
            foreach (var (operation, r) in _retrieved)
                audit.Record(new AuditEvent(rq.CallingAE, operation == "move" ? AuditActions.DicomMove : AuditActions.DicomGet, Targets(r.Studies),
                    AuditOutcomes.Success, address, new { calledAE = rq.CalledAE, instances = r.Instances, studies = r.Studies, destinations = r.Destinations }));
        }
        _request = null;
        return ValueTask.CompletedTask;
    }

    /// <summary>Study UIDs separated by spaces, as long as they fit the target column (the details hold them all).</summary>
    private static string Targets(IEnumerable<string> studies)
    {
        var text = string.Join(' ', studies);
        if (text.Length <= AuditEntry.TargetMaxLength) return text;
        int cut = text.LastIndexOf(' ', AuditEntry.TargetMaxLength - 4);
        return text[..(cut > 0 ? cut : AuditEntry.TargetMaxLength - 4)] + " ...";
    }
}
