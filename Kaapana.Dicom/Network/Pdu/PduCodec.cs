using System.Buffers.Binary;
using System.Text;

namespace Kaapana.Dicom.Network;

/// <summary>
/// Encodes and decodes PDUs (PS3.8 9.3). Decoding is strict about structure and lengths (every item and sub-item must fit its
/// container) and lenient where the standard says "not tested" (reserved fields, echoed AE titles) or "ignore" (unknown
/// items). Malformed input raises <see cref="DicomProtocolException"/> and nothing else.
/// </summary>
public static class PduCodec
{
    /// <summary>Bytes of the PDU header: type, reserved, 4-byte big-endian length.</summary>
    public const int HeaderLength = 6;

    /// <summary>Fixed part of A-ASSOCIATE-RQ/AC bodies before the variable items.</summary>
    private const int AssociateFixedLength = 68;

    public static bool IsKnownType(byte type) => type is >= 1 and <= 7;

    // ------------------------------------------------------------------ encoding

    public static byte[] Encode(DicomPdu pdu)
    {
        var w = new PduWriter();
        w.Byte((byte)pdu.Type);
        w.Byte(0);
        int len = w.BeginLength32();
        switch (pdu)
        {
            case AssociateRequestPdu rq:
                WriteAssociateFixed(w, rq);
                foreach (var pc in rq.PresentationContexts)
                {
                    w.Byte(0x20); w.Byte(0);
                    int pcLen = w.BeginLength16();
                    w.Byte(pc.Id); w.Byte(0); w.Byte(0); w.Byte(0);
                    WriteStringItem(w, 0x30, pc.AbstractSyntax);
                    foreach (var ts in pc.TransferSyntaxes) WriteStringItem(w, 0x40, ts);
                    w.EndLength16(pcLen);
                }
                WriteUserInformation(w, rq.UserInformation);
                break;
            case AssociateAcceptPdu ac:
                WriteAssociateFixed(w, ac);
                foreach (var pc in ac.PresentationContexts)
                {
                    w.Byte(0x21); w.Byte(0);
                    int pcLen = w.BeginLength16();
                    w.Byte(pc.Id); w.Byte(0); w.Byte((byte)pc.Result); w.Byte(0);
                    WriteStringItem(w, 0x40, pc.TransferSyntax);
                    w.EndLength16(pcLen);
                }
                WriteUserInformation(w, ac.UserInformation);
                break;
            case AssociateRejectPdu rj:
                w.Byte(0); w.Byte((byte)rj.Result); w.Byte((byte)rj.Source); w.Byte(rj.Reason);
                break;
            case DataTransferPdu dt:
                foreach (var pdv in dt.Values)
                {
                    w.UInt32((uint)(pdv.Data.Length + 2));
                    w.Byte(pdv.PresentationContextId);
                    w.Byte(pdv.ControlHeader);
                    w.Bytes(pdv.Data.Span);
                }
                break;
            case ReleaseRequestPdu or ReleaseResponsePdu:
                w.UInt32(0);
                break;
            case AbortPdu ab:
                w.Byte(0); w.Byte(0); w.Byte((byte)ab.Source); w.Byte((byte)ab.Reason);
                break;
            default:
                throw new ArgumentException($"Unknown PDU class {pdu.GetType().Name}.", nameof(pdu));
        }
        w.EndLength32(len);
        return w.ToArray();
    }

    private static void WriteAssociateFixed(PduWriter w, AssociatePduBase a)
    {
        w.UInt16(a.ProtocolVersion);
        w.UInt16(0);
        w.AeTitle(a.CalledAE);
        w.AeTitle(a.CallingAE);
        w.Zeros(32);
        if (a.ApplicationContextName is { } ctx) WriteStringItem(w, 0x10, ctx);
    }

    private static void WriteStringItem(PduWriter w, byte type, string value)
    {
        w.Byte(type); w.Byte(0);
        var bytes = Ascii(value);
        if (bytes.Length > ushort.MaxValue) throw new ArgumentException($"Item 0x{type:X2} value is too long.");
        w.UInt16((ushort)bytes.Length);
        w.Bytes(bytes);
    }

    private static void WriteUserInformation(PduWriter w, DicomUserInformation ui)
    {
        w.Byte(0x50); w.Byte(0);
        int len = w.BeginLength16();
        if (ui.MaxPduLength is { } max)
        {
            w.Byte(0x51); w.Byte(0); w.UInt16(4); w.UInt32(max);
        }
        if (ui.ImplementationClassUid is { } cls) WriteStringItem(w, 0x52, cls);
        if (ui.AsyncOperationsWindow is { } win)
        {
            w.Byte(0x53); w.Byte(0); w.UInt16(4); w.UInt16(win.MaxOperationsInvoked); w.UInt16(win.MaxOperationsPerformed);
        }
        foreach (var role in ui.RoleSelections)
        {
            w.Byte(0x54); w.Byte(0);
            int l = w.BeginLength16();
            w.LengthPrefixed16(Ascii(role.SopClassUid));
            w.Byte(role.ScuRole ? (byte)1 : (byte)0);
            w.Byte(role.ScpRole ? (byte)1 : (byte)0);
            w.EndLength16(l);
        }
        if (ui.ImplementationVersionName is { } ver) WriteStringItem(w, 0x55, ver);
        foreach (var ext in ui.ExtendedNegotiations)
        {
            w.Byte(0x56); w.Byte(0);
            int l = w.BeginLength16();
            w.LengthPrefixed16(Ascii(ext.SopClassUid));
            w.Bytes(ext.ServiceClassApplicationInformation);
            w.EndLength16(l);
        }
        foreach (var cx in ui.CommonExtendedNegotiations)
        {
            w.Byte(0x57); w.Byte(0);
            int l = w.BeginLength16();
            w.LengthPrefixed16(Ascii(cx.SopClassUid));
            w.LengthPrefixed16(Ascii(cx.ServiceClassUid));
            int rel = w.BeginLength16();
            foreach (var r in cx.RelatedGeneralSopClassUids) w.LengthPrefixed16(Ascii(r));
            w.EndLength16(rel);
            w.EndLength16(l);
        }
        if (ui.UserIdentity is { } id)
        {
            w.Byte(0x58); w.Byte(0);
            int l = w.BeginLength16();
            w.Byte((byte)id.IdentityType);
            w.Byte(id.PositiveResponseRequested ? (byte)1 : (byte)0);
            w.LengthPrefixed16(id.PrimaryField);
            w.LengthPrefixed16(id.SecondaryField);
            w.EndLength16(l);
        }
        if (ui.UserIdentityResponse is { } resp)
        {
            w.Byte(0x59); w.Byte(0);
            int l = w.BeginLength16();
            w.LengthPrefixed16(resp.ServerResponse);
            w.EndLength16(l);
        }
        foreach (var u in ui.UnknownSubItems)
        {
            w.Byte(u.ItemType); w.Byte(0);
            w.LengthPrefixed16(u.Data);
        }
        w.EndLength16(len);
    }

    private static byte[] Ascii(string s)
    {
        foreach (var c in s)
            if (c > 0x7E || c < 0x20) throw new ArgumentException($"'{s}' contains a character that cannot be sent in a PDU.");
        return Encoding.ASCII.GetBytes(s);
    }

    // ------------------------------------------------------------------ decoding

    /// <summary>Decodes a whole PDU (header included).</summary>
    public static DicomPdu Decode(ReadOnlySpan<byte> pdu)
    {
        if (pdu.Length < HeaderLength) throw new DicomProtocolException($"PDU of {pdu.Length} bytes is shorter than its header", DicomAbortReason.InvalidPduParameterValue, 0);
        var length = BinaryPrimitives.ReadUInt32BigEndian(pdu[2..]);
        if (length != (uint)(pdu.Length - HeaderLength))
            throw new DicomProtocolException($"PDU length field says {length} bytes but {pdu.Length - HeaderLength} follow", DicomAbortReason.InvalidPduParameterValue, 2);
        return DecodeBody(pdu[0], pdu[HeaderLength..]);
    }

    /// <summary>Decodes a PDU body (after the 6-byte header) of the given type. Offsets in errors count from the PDU start.</summary>
    public static DicomPdu DecodeBody(byte type, ReadOnlySpan<byte> body)
    {
        if (!IsKnownType(type)) throw new DicomProtocolException($"Unrecognized PDU type 0x{type:X2}", DicomAbortReason.UnrecognizedPdu, 0);
        var pduType = (DicomPduType)type;
        switch (pduType)
        {
            case DicomPduType.AssociateRequest:
            case DicomPduType.AssociateAccept:
                return DecodeAssociate(pduType, body);
            case DicomPduType.AssociateReject:
                RequireFixed(pduType, body, 4);
                return new AssociateRejectPdu((DicomRejectResult)body[1], (DicomRejectSource)body[2], body[3]);
            case DicomPduType.DataTransfer:
                {
                    var pdu = new DataTransferPdu();
                    foreach (var (offset, length, pcId, header) in ParsePdvs(body))
                        pdu.Values.Add(new DicomPresentationDataValue(pcId, (header & 1) != 0, (header & 2) != 0, body.Slice(offset, length).ToArray()));
                    return pdu;
                }
            case DicomPduType.ReleaseRequest:
                RequireFixed(pduType, body, 4);
                return new ReleaseRequestPdu();
            case DicomPduType.ReleaseResponse:
                RequireFixed(pduType, body, 4);
                return new ReleaseResponsePdu();
            default: // Abort
                RequireFixed(pduType, body, 4);
                return new AbortPdu((DicomAbortSource)body[2], (DicomAbortReason)body[3]);
        }
    }

    private static void RequireFixed(DicomPduType type, ReadOnlySpan<byte> body, int length)
    {
        if (body.Length != length)
            throw new DicomProtocolException($"{type} PDU must have length {length}, not {body.Length}", DicomAbortReason.InvalidPduParameterValue, 2);
    }

    /// <summary>
    /// Validates the PDV items of a P-DATA-TF body and returns (data offset, data length, context id, control header) for each.
    /// Offsets are relative to <paramref name="body"/>.
    /// </summary>
    public static List<(int Offset, int Length, byte PresentationContextId, byte ControlHeader)> ParsePdvs(ReadOnlySpan<byte> body)
    {
        var result = new List<(int, int, byte, byte)>(1);
        int pos = 0;
        while (pos < body.Length)
        {
            if (body.Length - pos < 6)
                throw new DicomProtocolException("P-DATA-TF ends inside a PDV item header", DicomAbortReason.InvalidPduParameterValue, HeaderLength + pos);
            var itemLength = BinaryPrimitives.ReadUInt32BigEndian(body[pos..]);
            if (itemLength < 2)
                throw new DicomProtocolException($"PDV item length {itemLength} is too small", DicomAbortReason.InvalidPduParameterValue, HeaderLength + pos);
            if (itemLength > (uint)(body.Length - pos - 4))
                throw new DicomProtocolException($"PDV item length {itemLength} exceeds the {body.Length - pos - 4} bytes left in the PDU", DicomAbortReason.InvalidPduParameterValue, HeaderLength + pos);
            result.Add((pos + 6, (int)itemLength - 2, body[pos + 4], body[pos + 5]));
            pos += 4 + (int)itemLength;
        }
        if (result.Count == 0)
            throw new DicomProtocolException("P-DATA-TF holds no presentation data value", DicomAbortReason.InvalidPduParameterValue, HeaderLength);
        return result;
    }

    private static AssociatePduBase DecodeAssociate(DicomPduType type, ReadOnlySpan<byte> body)
    {
        if (body.Length < AssociateFixedLength)
            throw new DicomProtocolException($"{type} PDU of {body.Length} bytes is shorter than its fixed part ({AssociateFixedLength})", DicomAbortReason.InvalidPduParameterValue, 2);
        AssociatePduBase pdu = type == DicomPduType.AssociateRequest ? new AssociateRequestPdu() : new AssociateAcceptPdu();
        pdu.ProtocolVersion = BinaryPrimitives.ReadUInt16BigEndian(body);
        pdu.CalledAE = AeTitle(body.Slice(4, 16));
        pdu.CallingAE = AeTitle(body.Slice(20, 16));
        pdu.ApplicationContextName = null;
        bool sawUserInfo = false;

        int pos = AssociateFixedLength;
        while (pos < body.Length)
        {
            var itemType = NextItem(body, ref pos, "item", out var item, out var itemOffset);
            switch (itemType)
            {
                case 0x10:
                    pdu.ApplicationContextName ??= Uid(item);
                    break;
                case 0x20 when pdu is AssociateRequestPdu rq:
                    rq.PresentationContexts.Add(DecodeProposal(item, itemOffset));
                    break;
                case 0x21 when pdu is AssociateAcceptPdu ac:
                    ac.PresentationContexts.Add(DecodeResponse(item, itemOffset));
                    break;
                case 0x50 when !sawUserInfo:
                    sawUserInfo = true;
                    DecodeUserInformation(pdu.UserInformation, item, itemOffset);
                    break;
                default:
                    // Unknown (or misplaced) items are ignored: their length is known, so the rest stays parseable.
                    break;
            }
        }
        return pdu;
    }

    /// <summary>Reads a (type, reserved, 16-bit length) item and checks its length against the container.</summary>
    private static byte NextItem(ReadOnlySpan<byte> container, ref int pos, string what, out ReadOnlySpan<byte> value, out int valueOffset, int containerOffset = HeaderLength)
    {
        if (container.Length - pos < 4)
            throw new DicomProtocolException($"Truncated {what} header", DicomAbortReason.InvalidPduParameterValue, containerOffset + pos);
        var type = container[pos];
        int length = BinaryPrimitives.ReadUInt16BigEndian(container[(pos + 2)..]);
        if (length > container.Length - pos - 4)
            throw new DicomProtocolException($"{what} 0x{type:X2} length {length} exceeds the {container.Length - pos - 4} bytes left in its container", DicomAbortReason.InvalidPduParameterValue, containerOffset + pos);
        value = container.Slice(pos + 4, length);
        valueOffset = containerOffset + pos + 4;
        pos += 4 + length;
        return type;
    }

    private static DicomPresentationContextProposal DecodeProposal(ReadOnlySpan<byte> item, int offset)
    {
        if (item.Length < 4) throw new DicomProtocolException("Presentation context item is shorter than 4 bytes", DicomAbortReason.InvalidPduParameterValue, offset);
        byte id = item[0];
        string abstractSyntax = "";
        var transferSyntaxes = new List<string>();
        int pos = 4;
        while (pos < item.Length)
        {
            var type = NextItem(item, ref pos, "presentation context sub-item", out var value, out _, offset);
            if (type == 0x30 && abstractSyntax.Length == 0) abstractSyntax = Uid(value);
            else if (type == 0x40) transferSyntaxes.Add(Uid(value));
        }
        return new DicomPresentationContextProposal(id, abstractSyntax, transferSyntaxes);
    }

    private static DicomPresentationContextResponse DecodeResponse(ReadOnlySpan<byte> item, int offset)
    {
        if (item.Length < 4) throw new DicomProtocolException("Presentation context item is shorter than 4 bytes", DicomAbortReason.InvalidPduParameterValue, offset);
        byte id = item[0];
        var result = (DicomPresentationContextResult)item[2];
        string ts = "";
        int pos = 4;
        while (pos < item.Length)
        {
            var type = NextItem(item, ref pos, "presentation context sub-item", out var value, out _, offset);
            if (type == 0x40 && ts.Length == 0) ts = Uid(value);
        }
        return new DicomPresentationContextResponse(id, result, ts);
    }

    private static void DecodeUserInformation(DicomUserInformation ui, ReadOnlySpan<byte> item, int offset)
    {
        int pos = 0;
        while (pos < item.Length)
        {
            var type = NextItem(item, ref pos, "user information sub-item", out var v, out var vo, offset);
            switch (type)
            {
                case 0x51:
                    RequireLength(v, 4, "Maximum length", vo);
                    ui.MaxPduLength = BinaryPrimitives.ReadUInt32BigEndian(v);
                    break;
                case 0x52:
                    ui.ImplementationClassUid = Uid(v);
                    break;
                case 0x53:
                    RequireLength(v, 4, "Asynchronous operations window", vo);
                    ui.AsyncOperationsWindow = new DicomAsyncOperationsWindow(BinaryPrimitives.ReadUInt16BigEndian(v), BinaryPrimitives.ReadUInt16BigEndian(v[2..]));
                    break;
                case 0x54:
                    {
                        int p = 0;
                        var uid = Uid(LengthPrefixed(v, ref p, "role selection SOP class UID", vo));
                        if (v.Length - p != 2) throw new DicomProtocolException("Role selection sub-item must end with SCU and SCP role bytes", DicomAbortReason.InvalidPduParameterValue, vo + p);
                        ui.RoleSelections.Add(new DicomRoleSelection(uid, v[p] != 0, v[p + 1] != 0));
                        break;
                    }
                case 0x55:
                    ui.ImplementationVersionName = Latin1Trimmed(v);
                    break;
                case 0x56:
                    {
                        int p = 0;
                        var uid = Uid(LengthPrefixed(v, ref p, "extended negotiation SOP class UID", vo));
                        ui.ExtendedNegotiations.Add(new DicomExtendedNegotiation(uid, v[p..].ToArray()));
                        break;
                    }
                case 0x57:
                    {
                        int p = 0;
                        var sop = Uid(LengthPrefixed(v, ref p, "common extended negotiation SOP class UID", vo));
                        var svc = Uid(LengthPrefixed(v, ref p, "common extended negotiation service class UID", vo));
                        var relatedBlock = LengthPrefixed(v, ref p, "related general SOP class identification", vo);
                        var related = new List<string>();
                        int q = 0;
                        while (q < relatedBlock.Length) related.Add(Uid(LengthPrefixed(relatedBlock, ref q, "related general SOP class UID", vo)));
                        ui.CommonExtendedNegotiations.Add(new DicomCommonExtendedNegotiation(sop, svc, related));
                        break;
                    }
                case 0x58:
                    {
                        if (v.Length < 2) throw new DicomProtocolException("User identity sub-item is too short", DicomAbortReason.InvalidPduParameterValue, vo);
                        int p = 2;
                        var primary = LengthPrefixed(v, ref p, "user identity primary field", vo).ToArray();
                        // The secondary-field length is present for every identity type (0 when unused); tolerate its absence.
                        var secondary = p < v.Length ? LengthPrefixed(v, ref p, "user identity secondary field", vo).ToArray() : [];
                        ui.UserIdentity = new DicomUserIdentityRequest((DicomUserIdentityType)v[0], v[1] != 0, primary, secondary);
                        break;
                    }
                case 0x59:
                    {
                        int p = 0;
                        ui.UserIdentityResponse = new DicomUserIdentityResponse(LengthPrefixed(v, ref p, "user identity server response", vo).ToArray());
                        break;
                    }
                default:
                    ui.UnknownSubItems.Add(new DicomUnknownSubItem(type, v.ToArray()));
                    break;
            }
        }
    }

    private static void RequireLength(ReadOnlySpan<byte> v, int n, string what, int offset)
    {
        if (v.Length != n) throw new DicomProtocolException($"{what} sub-item must have length {n}, not {v.Length}", DicomAbortReason.InvalidPduParameterValue, offset);
    }

    private static ReadOnlySpan<byte> LengthPrefixed(ReadOnlySpan<byte> v, ref int p, string what, int offset)
    {
        if (v.Length - p < 2) throw new DicomProtocolException($"Truncated length of {what}", DicomAbortReason.InvalidPduParameterValue, offset + p);
        int n = BinaryPrimitives.ReadUInt16BigEndian(v[p..]);
        if (n > v.Length - p - 2) throw new DicomProtocolException($"Length {n} of {what} exceeds its sub-item", DicomAbortReason.InvalidPduParameterValue, offset + p);
        var s = v.Slice(p + 2, n);
        p += 2 + n;
        return s;
    }

    /// <summary>AE titles: 16 bytes, leading and trailing spaces insignificant (PS3.8 9.3.2).</summary>
    private static string AeTitle(ReadOnlySpan<byte> b) => Encoding.Latin1.GetString(b).Trim(' ', '\0');

    /// <summary>UIDs in items are unpadded, but some peers pad with NUL or space; strip either.</summary>
    private static string Uid(ReadOnlySpan<byte> b) => Encoding.Latin1.GetString(b).Trim(' ', '\0');

    private static string Latin1Trimmed(ReadOnlySpan<byte> b) => Encoding.Latin1.GetString(b).TrimEnd(' ', '\0');

    /// <summary>Growable big-endian buffer with back-patched length fields.</summary>
    private sealed class PduWriter
    {
        private byte[] _buf = new byte[512];
        private int _len;

        private Span<byte> Take(int n)
        {
            if (_len + n > _buf.Length) Array.Resize(ref _buf, Math.Max(_buf.Length * 2, _len + n));
            var s = _buf.AsSpan(_len, n);
            _len += n;
            return s;
        }

        public void Byte(byte b) => Take(1)[0] = b;
        public void UInt16(ushort v) => BinaryPrimitives.WriteUInt16BigEndian(Take(2), v);
        public void UInt32(uint v) => BinaryPrimitives.WriteUInt32BigEndian(Take(4), v);
        public void Bytes(ReadOnlySpan<byte> b) => b.CopyTo(Take(b.Length));
        public void Zeros(int n) => Take(n).Clear();

        public void AeTitle(string ae)
        {
            var b = Ascii(ae.Trim());
            if (b.Length > 16) throw new ArgumentException($"AE title '{ae}' is longer than 16 characters.");
            var s = Take(16);
            s.Fill((byte)' ');
            b.CopyTo(s);
        }

        public void LengthPrefixed16(ReadOnlySpan<byte> b)
        {
            if (b.Length > ushort.MaxValue) throw new ArgumentException("Sub-item field is longer than 65535 bytes.");
            UInt16((ushort)b.Length);
            Bytes(b);
        }

        public int BeginLength16() { Take(2); return _len; }
        public void EndLength16(int mark)
        {
            int n = _len - mark;
            if (n > ushort.MaxValue) throw new ArgumentException("Item is longer than 65535 bytes.");
            BinaryPrimitives.WriteUInt16BigEndian(_buf.AsSpan(mark - 2), (ushort)n);
        }

        public int BeginLength32() { Take(4); return _len; }
        public void EndLength32(int mark) => BinaryPrimitives.WriteUInt32BigEndian(_buf.AsSpan(mark - 4), (uint)(_len - mark));

        public byte[] ToArray() => _buf.AsSpan(0, _len).ToArray();
    }
}
