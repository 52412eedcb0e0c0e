using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Kaapana.Dicom.Network;

/// <summary>
/// DICOM requestor. <see cref="ConnectAsync"/> opens an association with the presentation contexts you choose and returns the
/// <see cref="DicomAssociation"/> with all DIMSE primitives; <see cref="EchoAsync"/> and <see cref="StoreFilesAsync"/> do a
/// whole exchange (connect, operate, release).
/// </summary>
/// <param name="services">Handlers for requests the peer sends on our associations (e.g. <see cref="IStoreHandler"/> for C-GET).</param>
public sealed class DicomClient(DicomClientOptions options, IServiceProvider? services = null, ILoggerFactory? loggerFactory = null,
    DimseServiceRegistry? registry = null, TimeProvider? timeProvider = null)
{
    private readonly DimseServiceRegistry _registry = registry ?? DimseServiceRegistry.CreateDefault();
    private readonly ILogger _log = (loggerFactory ?? NullLoggerFactory.Instance).CreateLogger<DicomAssociation>();
    private readonly TimeProvider _time = timeProvider ?? TimeProvider.System;

    public DicomClientOptions Options => options;

    /// <summary>Largest number of presentation contexts in one association (odd IDs 1..255).</summary>
    public const int MaxPresentationContexts = 128;

    /// <summary>
    /// Connects and negotiates. Contexts get IDs 1, 3, 5, ... in the order given; those with a role set add an SCP/SCU Role
    /// Selection sub-item. <paramref name="configureUserInformation"/> can add user identity, extended negotiation, etc.
    /// </summary>
    /// <exception cref="DicomAssociationRejectedException">The peer sent A-ASSOCIATE-RJ.</exception>
    /// <exception cref="DicomNetworkException">Connection failed, timed out or was aborted.</exception>
    public Task<DicomAssociation> ConnectAsync(IEnumerable<DicomPresentationContextRequest> contexts,
        Action<DicomUserInformation>? configureUserInformation = null, CancellationToken ct = default)
    {
        var rq = new AssociateRequestPdu { CalledAE = options.CalledAE, CallingAE = options.CallingAE };
        byte id = 1;
        foreach (var c in contexts)
        {
            if (rq.PresentationContexts.Count == MaxPresentationContexts)
                throw new ArgumentException($"At most {MaxPresentationContexts} presentation contexts fit in one association.", nameof(contexts));
            rq.PresentationContexts.Add(new DicomPresentationContextProposal(id, c.AbstractSyntax, c.TransferSyntaxes.ToList()));
            if ((c.ScuRole.HasValue || c.ScpRole.HasValue) && rq.UserInformation.RoleSelections.All(r => r.SopClassUid != c.AbstractSyntax))
                rq.UserInformation.RoleSelections.Add(new DicomRoleSelection(c.AbstractSyntax, c.ScuRole ?? true, c.ScpRole ?? false));
            id += 2;
        }
        if (rq.PresentationContexts.Count == 0) throw new ArgumentException("Propose at least one presentation context.", nameof(contexts));
        rq.UserInformation.MaxPduLength = options.MaxPduLength;
        rq.UserInformation.ImplementationClassUid = DicomImplementation.ClassUid;
        rq.UserInformation.ImplementationVersionName = DicomImplementation.VersionName;
        configureUserInformation?.Invoke(rq.UserInformation);
        return DicomAssociation.ConnectAsync(options.Host, options.Port, rq, options.ConnectTimeout, options.ToSettings(), _registry,
            services ?? EmptyServiceProvider.Instance, _log, _time, ct);
    }

    /// <summary>Connect, C-ECHO, release. Returns the C-ECHO status.</summary>
    public async Task<DicomStatus> EchoAsync(CancellationToken ct = default)
    {
        var association = await ConnectAsync([new DicomPresentationContextRequest(DicomUids.Verification, DicomPresentationContextRequest.UncompressedTransferSyntaxes)],
            ct: ct).ConfigureAwait(false);
        await using (association.ConfigureAwait(false))
        {
            var response = await association.EchoAsync(ct).ConfigureAwait(false);
            await association.ReleaseAsync(ct).ConfigureAwait(false);
            return response.Status;
        }
    }

    /// <summary>
    /// Sends Part 10 files over as few associations as possible (one, unless more than 128 SOP class / transfer syntax
    /// combinations occur): one context per combination, proposing the file's syntax, then explicit and implicit VR little
    /// endian. Files are streamed from disk when their syntax is accepted, re-encoded among uncompressed syntaxes otherwise.
    /// A file that fails (unreadable, not accepted, failure status) does not stop the others.
    /// </summary>
    public async Task<IReadOnlyList<DicomStoreResult>> StoreFilesAsync(IEnumerable<string> paths, CancellationToken ct = default)
    {
        var results = new List<DicomStoreResult>();
        var files = new List<(string Path, string SopClass, DicomTransferSyntax Syntax)>();
        foreach (var path in paths)
        {
            ct.ThrowIfCancellationRequested();
            try
            {
                var (sop, syntax) = await ProbeAsync(path, ct).ConfigureAwait(false);
                files.Add((path, sop, syntax));
            }
            catch (Exception ex) when (ex is DicomException or IOException or UnauthorizedAccessException)
            {
                results.Add(new DicomStoreResult(path, null, ex));
            }
        }

        int next = 0;
        while (next < files.Count)
        {
            // Take files until a 129th distinct (SOP class, syntax) pair would be needed.
            var keys = new List<(string, string)>();
            int end = next;
            while (end < files.Count)
            {
                var k = (files[end].SopClass, files[end].Syntax.Uid);
                if (!keys.Contains(k))
                {
                    if (keys.Count == MaxPresentationContexts) break;
                    keys.Add(k);
                }
                end++;
            }
            var contexts = keys.Select(k => new DicomPresentationContextRequest(k.Item1,
                new[] { k.Item2 }.Concat(DicomPresentationContextRequest.UncompressedTransferSyntaxes).Distinct().ToArray())).ToList();
            var batch = files.GetRange(next, end - next);
            next = end;

            DicomAssociation association;
            try
            {
                association = await ConnectAsync(contexts, ct: ct).ConfigureAwait(false);
            }
            catch (DicomException ex)
            {
                results.AddRange(batch.Select(f => new DicomStoreResult(f.Path, null, ex)));
                continue;
            }
            await using (association.ConfigureAwait(false))
            {
                foreach (var f in batch)
                {
                    if (!association.IsOpen)
                    {
                        results.Add(new DicomStoreResult(f.Path, null, new DicomAssociationAbortedException($"Association ended: {association.EndReason}")));
                        continue;
                    }
                    try
                    {
                        var rsp = await association.StoreFileAsync(f.Path, ct: ct).ConfigureAwait(false);
                        results.Add(new DicomStoreResult(f.Path, rsp, null));
                        if (rsp.Status.IsFailure)
                            _log.LogWarning("C-STORE of {Path} to {AE}: {Status} {Comment}", f.Path, options.CalledAE, rsp.Status, rsp.ErrorComment);
                    }
                    catch (Exception ex) when (ex is DicomException or IOException or UnauthorizedAccessException)
                    {
                        results.Add(new DicomStoreResult(f.Path, null, ex));
                    }
                }
                if (association.IsOpen) await association.ReleaseAsync(ct).ConfigureAwait(false);
            }
        }
        return results;
    }

    /// <summary>SOP class and transfer syntax of a file, from its meta header (or a header-only parse when that is unusual).</summary>
    private static async Task<(string SopClass, DicomTransferSyntax Syntax)> ProbeAsync(string path, CancellationToken ct)
    {
        await using (var fs = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 4096, FileOptions.Asynchronous))
        {
            if (await DicomFileMeta.TryReadHeaderAsync(fs, ct).ConfigureAwait(false) is { } h) return (h.SopClassUid, h.TransferSyntax);
        }
        var file = DicomFile.Open(path, new DicomReadOptions { StopBeforePixelData = true });
        var sop = file.Dataset.GetString(DicomTags.SOPClassUID);
        if (sop.Length == 0) sop = file.FileMetaInfo.GetString(DicomTags.MediaStorageSOPClassUID);
        if (sop.Length == 0) throw new DicomNetworkException($"{path} has no SOP Class UID.");
        return (sop, file.TransferSyntax);
    }
}

/// <summary>Outcome of storing one file: the C-STORE response, or why it could not be sent.</summary>
public sealed record DicomStoreResult(string Path, DimseMessage? Response, Exception? Error)
{
    public DicomStatus? Status => Response?.Status;
    public bool Succeeded => Response is { } r && r.Status.IsSuccessOrWarning;
}
