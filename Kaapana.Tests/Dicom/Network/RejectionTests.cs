using Kaapana.Dicom;
using Kaapana.Dicom.Network;

namespace Kaapana.Tests.Dicom.Network;

/// <summary>Association and presentation context rejections, as DCMTK tools and our client see them.</summary>
public class RejectionTests
{
    [Fact]
    public async Task Unknown_called_AE_is_rejected_permanently_by_the_service_user()
    {
        await using var s = await TestServer.StartAsync();
        var r = await Dcmtk.RunAsync("echoscu", ["-aec", "NOT_US", "127.0.0.1", s.Port.ToString()]);
        Assert.NotEqual(0, r.ExitCode);
        Assert.Contains("Called AE Title Not Recognized", r.Output, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("Rejected Permanent", r.Output, StringComparison.OrdinalIgnoreCase);

        var ex = await Assert.ThrowsAsync<DicomAssociationRejectedException>(() => s.Client(calledAE: "NOT_US").EchoAsync());
        Assert.Equal(DicomRejectResult.Permanent, ex.Result);
        Assert.Equal(DicomRejectSource.ServiceUser, ex.RejectSource);
        Assert.Equal(DicomRejectReason.CalledAETitleNotRecognized, ex.Reason);
        Assert.Contains("called-AE-title-not-recognized", ex.Message);
        await s.AssertNoConnectionsAsync();
    }

    [Fact]
    public async Task Calling_AE_outside_the_allow_list_is_rejected()
    {
        await using var s = await TestServer.StartAsync(o => o.AllowedCallingAETitles = ["GOODSCU"]);
        var bad = await Dcmtk.RunAsync("echoscu", ["-aet", "BADSCU", "-aec", "KAAPANA", "127.0.0.1", s.Port.ToString()]);
        Assert.NotEqual(0, bad.ExitCode);
        Assert.Contains("Calling AE Title Not Recognized", bad.Output, StringComparison.OrdinalIgnoreCase);
        var good = await Dcmtk.RunAsync("echoscu", ["-aet", "GOODSCU", "-aec", "KAAPANA", "127.0.0.1", s.Port.ToString()]);
        Assert.True(good.ExitCode == 0, good.Output);
        await s.AssertNoConnectionsAsync();
    }

    /// <summary>One server, several called AE titles (e.g. one per project): each is accepted and reaches the handler.</summary>
    [Fact]
    public async Task Several_called_AE_titles_are_served_and_reported_to_the_handler()
    {
        await using var s = await TestServer.StartAsync(o => o.AETitles = ["PROJECT_A", "PROJECT_B"]);
        var file = Path.Combine(SampleData.RequireTestFiles(), "CT_small.dcm");
        foreach (var ae in new[] { "PROJECT_A", "PROJECT_B" })
        {
            var r = await Dcmtk.RunAsync("storescu", ["-aec", ae, "127.0.0.1", s.Port.ToString(), file]);
            Assert.True(r.ExitCode == 0, r.Output);
        }
        Assert.Equal(["PROJECT_A", "PROJECT_B"], s.Store.Ordered.Select(x => x.CalledAE));
        await s.AssertNoConnectionsAsync();
    }

    /// <summary>A server accepting only MR storage: storescu's CT context is rejected with "abstract syntax not supported".</summary>
    [Fact]
    public async Task Unsupported_abstract_syntax_is_rejected_per_context()
    {
        await using var s = await TestServer.StartAsync(o => o.StorageSopClasses = [DicomUids.MRImageStorage]);
        var ct = Path.Combine(SampleData.RequireTestFiles(), "CT_small.dcm");
        var r = await Dcmtk.RunAsync("storescu", ["-d", "-R", "-aec", "KAAPANA", "127.0.0.1", s.Port.ToString(), ct]);
        Assert.NotEqual(0, r.ExitCode);
        Assert.Contains("Abstract Syntax Not Supported", r.Output, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("No Acceptable Presentation Contexts", r.Output, StringComparison.OrdinalIgnoreCase);
        Assert.Empty(s.Store.Items);

        // Our client sees each result: 1 accepted, 3 abstract syntax not supported, 4 transfer syntaxes not supported.
        var a = await s.Client().ConnectAsync([
            new DicomPresentationContextRequest(DicomUids.Verification, DicomPresentationContextRequest.UncompressedTransferSyntaxes),
            new DicomPresentationContextRequest(DicomUids.CTImageStorage, DicomPresentationContextRequest.UncompressedTransferSyntaxes),
            new DicomPresentationContextRequest(DicomUids.MRImageStorage, ["1.2.3.4.5.6"]),
            new DicomPresentationContextRequest(DicomUids.MRImageStorage, DicomTransferSyntax.JPEGLSLossless),
        ]);
        await using (a)
        {
            var results = a.PresentationContexts.OrderBy(p => p.Id).Select(p => p.Result).ToList();
            Assert.Equal([DicomPresentationContextResult.Acceptance, DicomPresentationContextResult.AbstractSyntaxNotSupported,
                DicomPresentationContextResult.TransferSyntaxesNotSupported, DicomPresentationContextResult.Acceptance], results);
            Assert.Equal(DicomTransferSyntax.JPEGLSLossless, a.GetPresentationContext(7)!.TransferSyntax);
            var ex = await Assert.ThrowsAsync<DicomNetworkException>(() => a.StoreFileAsync(ct));
            Assert.Contains("No accepted presentation context for CT Image Storage", ex.Message);
            Assert.True(a.IsOpen); // a local refusal leaves the association usable
            Assert.True((await a.EchoAsync()).Status.IsSuccess);
        }
        await s.AssertNoConnectionsAsync();
    }

    /// <summary>Without an <see cref="IStoreHandler"/> no storage SOP class is offered.</summary>
    [Fact]
    public async Task Storage_is_not_offered_without_a_store_handler()
    {
        await using var s = await TestServer.StartAsync(withStore: false);
        await using var a = await s.Client().ConnectAsync([
            new DicomPresentationContextRequest(DicomUids.Verification, DicomPresentationContextRequest.UncompressedTransferSyntaxes),
            new DicomPresentationContextRequest(DicomUids.CTImageStorage, DicomPresentationContextRequest.UncompressedTransferSyntaxes),
        ]);
        Assert.Equal(DicomPresentationContextResult.AbstractSyntaxNotSupported, a.GetPresentationContext(3)!.Result);
        Assert.True(a.GetPresentationContext(1)!.IsAccepted);
    }

    /// <summary>Beyond MaxAssociations: A-ASSOCIATE-RJ transient, service provider (presentation), local limit exceeded.</summary>
    [Fact]
    public async Task Connections_beyond_the_limit_are_rejected_transiently()
    {
        await using var s = await TestServer.StartAsync(o => o.MaxAssociations = 1);
        await using (var held = await s.Client().ConnectAsync([new DicomPresentationContextRequest(DicomUids.Verification, DicomTransferSyntax.ImplicitVRLittleEndian)]))
        {
            var r = await Dcmtk.RunAsync("echoscu", ["-aec", "KAAPANA", "127.0.0.1", s.Port.ToString()]);
            Assert.NotEqual(0, r.ExitCode);
            Assert.Contains("Local Limit Exceeded", r.Output, StringComparison.OrdinalIgnoreCase);
            Assert.Contains("Transient", r.Output, StringComparison.OrdinalIgnoreCase);
            var ex = await Assert.ThrowsAsync<DicomAssociationRejectedException>(() => s.Client().EchoAsync());
            Assert.Equal(DicomRejectResult.Transient, ex.Result);
            Assert.Equal(DicomRejectSource.ServiceProviderPresentation, ex.RejectSource);
            Assert.Equal(DicomRejectReason.LocalLimitExceeded, ex.Reason);
            Assert.True((await held.EchoAsync()).Status.IsSuccess);
        }
        await s.AssertNoConnectionsAsync();
        var ok = await Dcmtk.RunAsync("echoscu", ["-aec", "KAAPANA", "127.0.0.1", s.Port.ToString()]);
        Assert.True(ok.ExitCode == 0, ok.Output);
    }

    [Fact]
    public void Transfer_syntax_choice_follows_our_preference_and_takes_compressed_storage_as_is()
    {
        var o = new DicomServerOptions();
        string[] proposal = [DicomUids.ImplicitVRLittleEndian, DicomUids.ExplicitVRLittleEndian];
        Assert.Equal(DicomUids.ExplicitVRLittleEndian, AssociationNegotiator.ChooseTransferSyntax(proposal, o, acceptCompressed: false));
        Assert.Equal(DicomUids.ImplicitVRLittleEndian, AssociationNegotiator.ChooseTransferSyntax([DicomUids.ImplicitVRLittleEndian], o, false));
        // Compressed first in a storage context: kept as the peer has it.
        string[] jpeg = [DicomUids.JPEGLosslessSV1, DicomUids.ExplicitVRLittleEndian];
        Assert.Equal(DicomUids.JPEGLosslessSV1, AssociationNegotiator.ChooseTransferSyntax(jpeg, o, acceptCompressed: true));
        Assert.Equal(DicomUids.ExplicitVRLittleEndian, AssociationNegotiator.ChooseTransferSyntax(jpeg, o, acceptCompressed: false));
        // Only compressed, not for storage (e.g. Verification): refused.
        Assert.Null(AssociationNegotiator.ChooseTransferSyntax([DicomUids.RLELossless], o, acceptCompressed: false));
        Assert.Equal(DicomUids.RLELossless, AssociationNegotiator.ChooseTransferSyntax([DicomUids.RLELossless], o, acceptCompressed: true));
        // Unknown UIDs are never accepted.
        Assert.Null(AssociationNegotiator.ChooseTransferSyntax(["1.2.3.4"], o, acceptCompressed: true));
        Assert.Null(AssociationNegotiator.ChooseTransferSyntax([], o, acceptCompressed: true));
    }

    [Fact]
    public void Association_level_checks_give_the_standard_rejections()
    {
        var o = new DicomServerOptions { AETitles = ["KAAPANA"] };
        var registry = DimseServiceRegistry.CreateDefault();
        DicomPdu Negotiate(Action<AssociateRequestPdu> edit, AssociationNegotiator.Condition c = AssociationNegotiator.Condition.Normal)
        {
            var rq = RawPeer.Request();
            edit(rq);
            return AssociationNegotiator.Negotiate(rq, o, registry, EmptyServices.Instance, c);
        }
        var v = Assert.IsType<AssociateRejectPdu>(Negotiate(rq => rq.ProtocolVersion = 2));
        Assert.Equal((DicomRejectSource.ServiceProviderAcse, DicomRejectReason.ProtocolVersionNotSupported), (v.Source, v.Reason));
        var ctx = Assert.IsType<AssociateRejectPdu>(Negotiate(rq => rq.ApplicationContextName = "1.2.3"));
        Assert.Equal((DicomRejectSource.ServiceUser, DicomRejectReason.ApplicationContextNameNotSupported), (ctx.Source, ctx.Reason));
        var stop = Assert.IsType<AssociateRejectPdu>(Negotiate(_ => { }, AssociationNegotiator.Condition.ShuttingDown));
        Assert.Equal((DicomRejectResult.Transient, DicomRejectReason.TemporaryCongestion), (stop.Result, stop.Reason));

        // Invalid contexts (even or repeated IDs) are refused one by one; roles are granted for accepted SOP classes only.
        var ac = Assert.IsType<AssociateAcceptPdu>(Negotiate(rq =>
        {
            rq.PresentationContexts.Add(new DicomPresentationContextProposal(4, DicomUids.Verification, [DicomUids.ImplicitVRLittleEndian]));
            rq.PresentationContexts.Add(new DicomPresentationContextProposal(1, DicomUids.Verification, [DicomUids.ImplicitVRLittleEndian]));
            rq.UserInformation.RoleSelections.Add(new DicomRoleSelection(DicomUids.Verification, true, true));
            rq.UserInformation.RoleSelections.Add(new DicomRoleSelection(DicomUids.MRImageStorage, false, true));
            rq.UserInformation.AsyncOperationsWindow = new DicomAsyncOperationsWindow(10, 10);
        }));
        Assert.Equal([DicomPresentationContextResult.Acceptance, DicomPresentationContextResult.AbstractSyntaxNotSupported,
            DicomPresentationContextResult.ProviderRejection, DicomPresentationContextResult.ProviderRejection], ac.PresentationContexts.Select(p => p.Result));
        Assert.Equal(new DicomRoleSelection(DicomUids.Verification, true, true), Assert.Single(ac.UserInformation.RoleSelections));
        Assert.Equal(new DicomAsyncOperationsWindow(1, 1), ac.UserInformation.AsyncOperationsWindow);
        Assert.Equal(DicomImplementation.ClassUid, ac.UserInformation.ImplementationClassUid);
    }
}

internal sealed class EmptyServices : IServiceProvider
{
    public static EmptyServices Instance { get; } = new();
    public object? GetService(Type serviceType) => null;
}
