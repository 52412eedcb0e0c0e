using System.Buffers.Binary;
using Kaapana.Dicom;
using Kaapana.Dicom.Network;

namespace Kaapana.Tests.Dicom.Network;

/// <summary>PDU encode/decode round trips (every PDU type and user information sub-item) and decoding of malformed input.</summary>
public class PduCodecTests
{
    private static T RoundTrip<T>(T pdu) where T : DicomPdu
    {
        var bytes = PduCodec.Encode(pdu);
        Assert.Equal((byte)pdu.Type, bytes[0]);
        Assert.Equal((uint)(bytes.Length - 6), BinaryPrimitives.ReadUInt32BigEndian(bytes.AsSpan(2)));
        var decoded = PduCodec.Decode(bytes);
        var again = PduCodec.Encode(decoded);
        Assert.Equal(bytes, again); // decode(encode(x)) encodes to the same bytes
        return Assert.IsType<T>(decoded);
    }

    private static AssociateRequestPdu FullRequest()
    {
        var rq = new AssociateRequestPdu { CalledAE = "KAAPANA", CallingAE = "MODALITY_01" };
        rq.PresentationContexts.Add(new DicomPresentationContextProposal(1, DicomUids.Verification, [DicomUids.ImplicitVRLittleEndian]));
        rq.PresentationContexts.Add(new DicomPresentationContextProposal(3, DicomUids.CTImageStorage,
            [DicomUids.JPEGLosslessSV1, DicomUids.ExplicitVRLittleEndian, DicomUids.ImplicitVRLittleEndian]));
        rq.PresentationContexts.Add(new DicomPresentationContextProposal(255, DicomUids.MRImageStorage, [DicomUids.ExplicitVRLittleEndian]));
        var ui = rq.UserInformation;
        ui.MaxPduLength = 16384;
        ui.ImplementationClassUid = DicomImplementation.ClassUid;
        ui.ImplementationVersionName = DicomImplementation.VersionName;
        ui.AsyncOperationsWindow = new DicomAsyncOperationsWindow(5, 0);
        ui.RoleSelections.Add(new DicomRoleSelection(DicomUids.CTImageStorage, false, true));
        ui.RoleSelections.Add(new DicomRoleSelection(DicomUids.MRImageStorage, true, true));
        ui.ExtendedNegotiations.Add(new DicomExtendedNegotiation("1.2.840.10008.5.1.4.1.2.2.1", [1, 1, 0]));
        ui.CommonExtendedNegotiations.Add(new DicomCommonExtendedNegotiation(DicomUids.EnhancedCTImageStorage, "1.2.840.10008.4.2",
            [DicomUids.CTImageStorage, "1.2.3.4"]));
        ui.CommonExtendedNegotiations.Add(new DicomCommonExtendedNegotiation("1.2.3", "1.2.840.10008.4.2", []));
        ui.UserIdentity = DicomUserIdentityRequest.FromUsername("alice", "s3cret", positiveResponseRequested: true);
        ui.UnknownSubItems.Add(new DicomUnknownSubItem(0x7E, [9, 8, 7]));
        return rq;
    }

    [Fact]
    public void Associate_request_round_trips_with_every_user_information_sub_item()
    {
        var rq = RoundTrip(FullRequest());
        Assert.Equal(1, rq.ProtocolVersion);
        Assert.Equal("KAAPANA", rq.CalledAE);
        Assert.Equal("MODALITY_01", rq.CallingAE);
        Assert.Equal(AssociatePduBase.DicomApplicationContext, rq.ApplicationContextName);
        Assert.Equal(3, rq.PresentationContexts.Count);
        Assert.Equal(new byte[] { 1, 3, 255 }, rq.PresentationContexts.Select(p => p.Id));
        Assert.Equal(DicomUids.CTImageStorage, rq.PresentationContexts[1].AbstractSyntax);
        Assert.Equal([DicomUids.JPEGLosslessSV1, DicomUids.ExplicitVRLittleEndian, DicomUids.ImplicitVRLittleEndian], rq.PresentationContexts[1].TransferSyntaxes);
        var ui = rq.UserInformation;
        Assert.Equal(16384u, ui.MaxPduLength);
        Assert.Equal(DicomImplementation.ClassUid, ui.ImplementationClassUid);
        Assert.Equal(DicomImplementation.VersionName, ui.ImplementationVersionName);
        Assert.Equal(new DicomAsyncOperationsWindow(5, 0), ui.AsyncOperationsWindow);
        Assert.Equal([new DicomRoleSelection(DicomUids.CTImageStorage, false, true), new DicomRoleSelection(DicomUids.MRImageStorage, true, true)], ui.RoleSelections);
        var ext = Assert.Single(ui.ExtendedNegotiations);
        Assert.Equal("1.2.840.10008.5.1.4.1.2.2.1", ext.SopClassUid);
        Assert.Equal(new byte[] { 1, 1, 0 }, ext.ServiceClassApplicationInformation);
        Assert.Equal(2, ui.CommonExtendedNegotiations.Count);
        Assert.Equal(DicomUids.EnhancedCTImageStorage, ui.CommonExtendedNegotiations[0].SopClassUid);
        Assert.Equal("1.2.840.10008.4.2", ui.CommonExtendedNegotiations[0].ServiceClassUid);
        Assert.Equal([DicomUids.CTImageStorage, "1.2.3.4"], ui.CommonExtendedNegotiations[0].RelatedGeneralSopClassUids);
        Assert.Empty(ui.CommonExtendedNegotiations[1].RelatedGeneralSopClassUids);
        Assert.NotNull(ui.UserIdentity);
        Assert.Equal(DicomUserIdentityType.UsernameAndPasscode, ui.UserIdentity!.IdentityType);
        Assert.True(ui.UserIdentity.PositiveResponseRequested);
        Assert.Equal("alice"u8.ToArray(), ui.UserIdentity.PrimaryField);
        Assert.Equal("s3cret"u8.ToArray(), ui.UserIdentity.SecondaryField);
        var unknown = Assert.Single(ui.UnknownSubItems);
        Assert.Equal(0x7E, unknown.ItemType);
        Assert.Equal(new byte[] { 9, 8, 7 }, unknown.Data);
    }

    [Fact]
    public void Associate_accept_round_trips_with_results_roles_and_identity_response()
    {
        var ac = new AssociateAcceptPdu { CalledAE = "KAAPANA", CallingAE = "SCU" };
        ac.PresentationContexts.Add(new DicomPresentationContextResponse(1, DicomPresentationContextResult.Acceptance, DicomUids.ImplicitVRLittleEndian));
        ac.PresentationContexts.Add(new DicomPresentationContextResponse(3, DicomPresentationContextResult.AbstractSyntaxNotSupported, DicomUids.ImplicitVRLittleEndian));
        ac.PresentationContexts.Add(new DicomPresentationContextResponse(5, DicomPresentationContextResult.TransferSyntaxesNotSupported, DicomUids.ImplicitVRLittleEndian));
        ac.PresentationContexts.Add(new DicomPresentationContextResponse(7, DicomPresentationContextResult.UserRejection, DicomUids.ImplicitVRLittleEndian));
        ac.PresentationContexts.Add(new DicomPresentationContextResponse(9, DicomPresentationContextResult.ProviderRejection, DicomUids.ImplicitVRLittleEndian));
        ac.UserInformation.MaxPduLength = 0;
        ac.UserInformation.ImplementationClassUid = "1.2.3";
        ac.UserInformation.AsyncOperationsWindow = new DicomAsyncOperationsWindow(1, 1);
        ac.UserInformation.RoleSelections.Add(new DicomRoleSelection(DicomUids.CTImageStorage, false, true));
        ac.UserInformation.UserIdentityResponse = new DicomUserIdentityResponse("ticket"u8.ToArray());
        var d = RoundTrip(ac);
        Assert.Equal([DicomPresentationContextResult.Acceptance, DicomPresentationContextResult.AbstractSyntaxNotSupported,
            DicomPresentationContextResult.TransferSyntaxesNotSupported, DicomPresentationContextResult.UserRejection, DicomPresentationContextResult.ProviderRejection],
            d.PresentationContexts.Select(p => p.Result));
        Assert.Equal(0u, d.UserInformation.MaxPduLength);
        Assert.Equal("ticket"u8.ToArray(), d.UserInformation.UserIdentityResponse!.ServerResponse);
        Assert.Equal(new DicomRoleSelection(DicomUids.CTImageStorage, false, true), Assert.Single(d.UserInformation.RoleSelections));
    }

    [Fact]
    public void Fixed_pdus_round_trip()
    {
        var rj = RoundTrip(new AssociateRejectPdu(DicomRejectResult.Transient, DicomRejectSource.ServiceProviderPresentation, DicomRejectReason.LocalLimitExceeded));
        Assert.Equal(DicomRejectResult.Transient, rj.Result);
        Assert.Equal(DicomRejectSource.ServiceProviderPresentation, rj.Source);
        Assert.Equal(DicomRejectReason.LocalLimitExceeded, rj.Reason);
        Assert.Equal("rejected-transient, service-provider (presentation), local-limit-exceeded", rj.ToString());
        RoundTrip(new ReleaseRequestPdu());
        RoundTrip(new ReleaseResponsePdu());
        var ab = RoundTrip(new AbortPdu(DicomAbortSource.ServiceProvider, DicomAbortReason.UnexpectedPdu));
        Assert.Equal(DicomAbortSource.ServiceProvider, ab.Source);
        Assert.Equal(DicomAbortReason.UnexpectedPdu, ab.Reason);
        Assert.Equal(new byte[] { 7, 0, 0, 0, 0, 4, 0, 0, 2, 2 }, PduCodec.Encode(ab));
        Assert.Equal(new byte[] { 5, 0, 0, 0, 0, 4, 0, 0, 0, 0 }, PduCodec.Encode(new ReleaseRequestPdu()));
    }

    [Fact]
    public void Data_transfer_round_trips_message_control_headers()
    {
        var pdu = new DataTransferPdu();
        pdu.Values.Add(new DicomPresentationDataValue(1, IsCommand: true, IsLastFragment: true, new byte[] { 1, 2, 3, 4 }));
        pdu.Values.Add(new DicomPresentationDataValue(1, IsCommand: false, IsLastFragment: false, new byte[] { 5, 6 }));
        pdu.Values.Add(new DicomPresentationDataValue(3, IsCommand: false, IsLastFragment: true, Array.Empty<byte>()));
        var bytes = PduCodec.Encode(pdu);
        Assert.Equal(0x03, bytes[11]); // command + last
        var d = RoundTrip(pdu);
        Assert.Equal(3, d.Values.Count);
        Assert.True(d.Values[0].IsCommand && d.Values[0].IsLastFragment);
        Assert.False(d.Values[1].IsCommand || d.Values[1].IsLastFragment);
        Assert.Equal(new byte[] { 5, 6 }, d.Values[1].Data.ToArray());
        Assert.Equal(3, d.Values[2].PresentationContextId);
        Assert.True(d.Values[2].Data.IsEmpty);
    }

    [Fact]
    public void Ae_titles_are_space_padded_and_trimmed()
    {
        var bytes = PduCodec.Encode(new AssociateRequestPdu { CalledAE = "AB", CallingAE = " C D " });
        Assert.Equal("AB              "u8.ToArray(), bytes.AsSpan(10, 16).ToArray());
        var d = (AssociateRequestPdu)PduCodec.Decode(bytes);
        Assert.Equal("AB", d.CalledAE);
        Assert.Equal("C D", d.CallingAE);
        Assert.Throws<ArgumentException>(() => PduCodec.Encode(new AssociateRequestPdu { CalledAE = "SEVENTEEN_CHARS_X" }));
    }

    [Fact]
    public void Unknown_items_are_skipped_and_uid_padding_is_tolerated()
    {
        var rq = FullRequest();
        var bytes = PduCodec.Encode(rq).ToList();
        // Insert an unknown item (type 0x99) right after the fixed part, and fix the PDU length.
        bytes.InsertRange(6 + 68, new byte[] { 0x99, 0, 0, 3, 1, 2, 3 });
        var arr = bytes.ToArray();
        BinaryPrimitives.WriteUInt32BigEndian(arr.AsSpan(2), (uint)(arr.Length - 6));
        var d = (AssociateRequestPdu)PduCodec.Decode(arr);
        Assert.Equal(3, d.PresentationContexts.Count);

        // A NUL-padded application context name (seen in the wild; our encoder refuses to write one).
        Assert.Throws<ArgumentException>(() => PduCodec.Encode(new AssociateRequestPdu { ApplicationContextName = "1.2.840.10008.3.1.1.1\0" }));
        var plain = PduCodec.Encode(new AssociateRequestPdu()).ToList();
        Assert.Equal(0x10, plain[74]);
        int nameLength = BinaryPrimitives.ReadUInt16BigEndian(plain.ToArray().AsSpan(76));
        plain.Insert(78 + nameLength, 0);
        var padded = plain.ToArray();
        BinaryPrimitives.WriteUInt16BigEndian(padded.AsSpan(76), (ushort)(nameLength + 1));
        BinaryPrimitives.WriteUInt32BigEndian(padded.AsSpan(2), (uint)(padded.Length - 6));
        Assert.Equal(AssociatePduBase.DicomApplicationContext, ((AssociateRequestPdu)PduCodec.Decode(padded)).ApplicationContextName);
    }

    public static TheoryData<string, byte[]> MalformedPdus() => new()
    {
        { "too short for a header", new byte[] { 1, 0, 0 } },
        { "length field disagrees", new byte[] { 5, 0, 0, 0, 0, 9, 0, 0, 0, 0 } },
        { "unknown PDU type", new byte[] { 0x0A, 0, 0, 0, 0, 4, 0, 0, 0, 0 } },
        { "release with length 6", new byte[] { 5, 0, 0, 0, 0, 6, 0, 0, 0, 0, 0, 0 } },
        { "associate shorter than fixed part", new byte[] { 1, 0, 0, 0, 0, 10, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0 } },
        { "empty P-DATA", new byte[] { 4, 0, 0, 0, 0, 0 } },
        { "PDV item longer than the PDU", new byte[] { 4, 0, 0, 0, 0, 8, 0, 0, 0, 9, 1, 3, 0, 0 } },
        { "PDV item length below 2", new byte[] { 4, 0, 0, 0, 0, 6, 0, 0, 0, 1, 1, 3 } },
        { "truncated PDV header", new byte[] { 4, 0, 0, 0, 0, 5, 0, 0, 0, 3, 1 } },
    };

    [Theory]
    [MemberData(nameof(MalformedPdus))]
    public void Malformed_pdus_raise_protocol_errors(string why, byte[] bytes)
    {
        var ex = Assert.Throws<DicomProtocolException>(() => PduCodec.Decode(bytes));
        Assert.False(string.IsNullOrEmpty(ex.Message), why);
    }

    [Fact]
    public void Item_lengths_are_checked_against_their_container()
    {
        var good = PduCodec.Encode(FullRequest());
        // Find the first presentation context item (type 0x20) and make its length run past the PDU.
        int pos = 6 + 68;
        while (good[pos] != 0x20) pos += 4 + BinaryPrimitives.ReadUInt16BigEndian(good.AsSpan(pos + 2));
        var bad = (byte[])good.Clone();
        BinaryPrimitives.WriteUInt16BigEndian(bad.AsSpan(pos + 2), 0xFFF0);
        var ex = Assert.Throws<DicomProtocolException>(() => PduCodec.Decode(bad));
        Assert.Contains("exceeds", ex.Message);

        // An abstract syntax sub-item longer than its presentation context item.
        bad = (byte[])good.Clone();
        BinaryPrimitives.WriteUInt16BigEndian(bad.AsSpan(pos + 8 + 2), 200);
        Assert.Throws<DicomProtocolException>(() => PduCodec.Decode(bad));
    }

    /// <summary>Every truncation and many single-byte corruptions of a full A-ASSOCIATE-RQ: only protocol errors, never another exception.</summary>
    [Fact]
    public void Corrupted_associate_requests_only_ever_raise_protocol_errors()
    {
        var good = PduCodec.Encode(FullRequest());
        var rng = new Random(1234);
        for (int cut = 0; cut < good.Length; cut++)
        {
            var truncated = good.AsSpan(0, cut).ToArray();
            if (truncated.Length >= 6) BinaryPrimitives.WriteUInt32BigEndian(truncated.AsSpan(2), (uint)(truncated.Length - 6));
            TryDecode(truncated);
        }
        for (int i = 0; i < 20_000; i++)
        {
            var corrupt = (byte[])good.Clone();
            int n = rng.Next(1, 4);
            for (int k = 0; k < n; k++) corrupt[rng.Next(6, corrupt.Length)] = (byte)rng.Next(256);
            TryDecode(corrupt);
        }

        static void TryDecode(byte[] b)
        {
            try
            {
                PduCodec.Decode(b);
            }
            catch (DicomProtocolException)
            {
            }
        }
    }

    [Fact]
    public void Command_sets_carry_a_computed_group_length_and_round_trip()
    {
        var cmd = DimseCommand.CreateStoreRequest(DicomUids.CTImageStorage, "1.2.3.4.5", DimsePriority.High, "MOVER", 17);
        cmd.Set<ushort>(DicomTags.MessageID, DicomVR.US, 42);
        var bytes = DimseCommand.Encode(cmd);
        Assert.Equal(0u, BinaryPrimitives.ReadUInt32LittleEndian(bytes)); // (0000,0000)
        Assert.Equal(4u, BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(4)));
        Assert.Equal((uint)(bytes.Length - 12), BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(8)));
        Assert.True(bytes.Length % 2 == 0);
        var msg = new DimseMessage(1, DimseCommand.Decode(bytes));
        Assert.Equal(DimseCommandField.CStoreRequest, msg.CommandField);
        Assert.Equal(42, msg.MessageId);
        Assert.True(msg.HasDataSet);
        Assert.Equal(DicomUids.CTImageStorage, msg.AffectedSopClassUid);
        Assert.Equal("1.2.3.4.5", msg.AffectedSopInstanceUid);
        Assert.Equal("MOVER", msg.Command.GetString(DicomTags.MoveOriginatorApplicationEntityTitle));
        Assert.Equal((ushort)17, msg.Command.Get<ushort>(DicomTags.MoveOriginatorMessageID));
        Assert.Equal((ushort)DimsePriority.High, msg.Command.Get<ushort>(DicomTags.Priority));

        var rsp = new DimseMessage(1, DimseCommand.Decode(DimseCommand.Encode(DimseCommand.CreateResponse(msg.Command, DicomStatus.OutOfResources, errorComment: "disk\\full"))));
        Assert.Equal(DimseCommandField.CStoreResponse, rsp.CommandField);
        Assert.Equal(42, rsp.MessageIdBeingRespondedTo);
        Assert.False(rsp.HasDataSet);
        Assert.Equal(DicomStatus.OutOfResources, rsp.Status);
        Assert.Equal("1.2.3.4.5", rsp.AffectedSopInstanceUid);
        Assert.Equal("disk full", rsp.ErrorComment);
    }

    [Fact]
    public void Malformed_command_sets_raise_protocol_errors()
    {
        Assert.Throws<DicomProtocolException>(() => DimseCommand.Decode(new byte[] { 0, 0, 0, 1, 2, 0, 0, 0 })); // truncated value
        Assert.Throws<DicomProtocolException>(() => DimseCommand.Decode(new byte[] { 8, 0, 0x18, 0, 0, 0, 0, 0 })); // group 0008
        Assert.Throws<DicomProtocolException>(() => DimseCommand.Decode(new byte[] { 0, 0, 0x10, 1, 2, 0, 0, 0, 1, 0 })); // MessageID, no command field
        Assert.Throws<DicomProtocolException>(() => DimseCommand.Decode(new byte[] { 0, 0, 0, 1, 2, 0, 0, 0, 1, 0, 0, 0, 0, 1, 2, 0, 0, 0, 1, 0 })); // out of order
    }

    [Theory]
    [InlineData(0x0000, DicomStatusState.Success)]
    [InlineData(0x0001, DicomStatusState.Warning)]
    [InlineData(0xB000, DicomStatusState.Warning)]
    [InlineData(0xB007, DicomStatusState.Warning)]
    [InlineData(0xFF00, DicomStatusState.Pending)]
    [InlineData(0xFF01, DicomStatusState.Pending)]
    [InlineData(0xFE00, DicomStatusState.Cancel)]
    [InlineData(0xA700, DicomStatusState.Failure)]
    [InlineData(0xA7FF, DicomStatusState.Failure)]
    [InlineData(0xA900, DicomStatusState.Failure)]
    [InlineData(0xC000, DicomStatusState.Failure)]
    [InlineData(0xC123, DicomStatusState.Failure)]
    [InlineData(0x0122, DicomStatusState.Failure)]
    [InlineData(0x0211, DicomStatusState.Failure)]
    public void Status_classes(int code, DicomStatusState state)
    {
        var s = new DicomStatus((ushort)code);
        Assert.Equal(state, s.State);
        Assert.Equal(state != DicomStatusState.Pending, s.IsFinal);
        Assert.StartsWith($"0x{code:X4}", s.ToString());
    }

    [Fact]
    public async Task Pdu_reader_refuses_huge_and_unknown_pdus_before_reading_their_body()
    {
        // A 4 GB length: refused from the header alone (no allocation, no attempt to read 4 GB).
        var huge = new MemoryStream([4, 0, 0xFF, 0xFF, 0xFF, 0xFF, 1, 2, 3]);
        var ex = await Assert.ThrowsAsync<DicomProtocolException>(() => new PduReader(huge, 16 * 1024 * 1024).ReadAsync(CancellationToken.None).AsTask());
        Assert.Equal(DicomAbortReason.InvalidPduParameterValue, ex.AbortReason);
        Assert.Equal(6, huge.Position);

        var unknown = new MemoryStream([0x42, 0, 0, 0, 0, 4, 0, 0, 0, 0]);
        ex = await Assert.ThrowsAsync<DicomProtocolException>(() => new PduReader(unknown, 1024).ReadAsync(CancellationToken.None).AsTask());
        Assert.Equal(DicomAbortReason.UnrecognizedPdu, ex.AbortReason);

        // Truncated body: a network error (the peer went away), not a protocol error.
        var truncated = new MemoryStream([4, 0, 0, 0, 0, 100, 1, 2, 3]);
        await Assert.ThrowsAsync<DicomNetworkException>(() => new PduReader(truncated, 1024).ReadAsync(CancellationToken.None).AsTask());

        // Clean end at a PDU boundary.
        Assert.Null(await new PduReader(new MemoryStream(), 1024).ReadAsync(CancellationToken.None));
    }
}
