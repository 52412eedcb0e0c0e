using System.Buffers.Binary;

namespace Kaapana.Dicom.Network;

/// <summary>Command Field (0000,0100) values (PS3.7 E.1). Responses have bit 15 set.</summary>
public enum DimseCommandField : ushort
{
    CStoreRequest = 0x0001,
    CStoreResponse = 0x8001,
    CGetRequest = 0x0010,
    CGetResponse = 0x8010,
    CFindRequest = 0x0020,
    CFindResponse = 0x8020,
    CMoveRequest = 0x0021,
    CMoveResponse = 0x8021,
    CEchoRequest = 0x0030,
    CEchoResponse = 0x8030,
    NEventReportRequest = 0x0100,
    NEventReportResponse = 0x8100,
    NGetRequest = 0x0110,
    NGetResponse = 0x8110,
    NSetRequest = 0x0120,
    NSetResponse = 0x8120,
    NActionRequest = 0x0130,
    NActionResponse = 0x8130,
    NCreateRequest = 0x0140,
    NCreateResponse = 0x8140,
    NDeleteRequest = 0x0150,
    NDeleteResponse = 0x8150,
    CCancelRequest = 0x0FFF,
}

/// <summary>Priority (0000,0700) of C-STORE, C-FIND, C-GET and C-MOVE requests.</summary>
public enum DimsePriority : ushort
{
    Medium = 0x0000,
    High = 0x0001,
    Low = 0x0002,
}

/// <summary>
/// Command sets (PS3.7 6.3, E): always implicit VR little endian, group 0000 only, with Command Group Length (0000,0000)
/// computed on encoding. Builders for the requests and responses of the services implemented here.
/// </summary>
public static class DimseCommand
{
    /// <summary>Command Data Set Type value meaning "no data set" (any other value means one follows).</summary>
    public const ushort NoDataSet = 0x0101;

    /// <summary>Value we send when a data set follows (PS3.7 E.1 allows any value other than 0101H).</summary>
    public const ushort DataSetPresent = 0x0000;

    public static bool IsResponse(DimseCommandField field) => ((ushort)field & 0x8000) != 0;

    public static DimseCommandField ResponseFieldFor(DimseCommandField request) => (DimseCommandField)((ushort)request | 0x8000);

    /// <summary>Encodes a command set. Existing (0000,0000) is ignored and recomputed; elements outside group 0000 are rejected.</summary>
    public static byte[] Encode(DicomDataset command)
    {
        long body = 0;
        foreach (var e in command)
        {
            if (e.Tag.Group != 0x0000) throw new ArgumentException($"Command sets hold group 0000 only; found {e.Tag}.", nameof(command));
            if (e.Tag.Element == 0x0000) continue;
            if (e is not DicomValueElement v) throw new ArgumentException($"Command element {e.Tag} must be a plain value.", nameof(command));
            body += 8 + ((v.Length + 1) & ~1L);
        }
        if (body > int.MaxValue - 12) throw new ArgumentException("Command set is too large.", nameof(command));
        var bytes = new byte[12 + body];
        var s = bytes.AsSpan();
        WriteHeader(s, DicomTags.CommandGroupLength, 4);
        BinaryPrimitives.WriteUInt32LittleEndian(s[8..], (uint)body);
        int pos = 12;
        foreach (var e in command)
        {
            if (e.Tag.Element == 0x0000) continue;
            var v = (DicomValueElement)e;
            int len = (int)v.Length;
            int padded = (len + 1) & ~1;
            WriteHeader(s[pos..], e.Tag, (uint)padded);
            v.Span.CopyTo(s[(pos + 8)..]);
            if (padded != len) s[pos + 8 + len] = v.VR.PaddingByte();
            pos += 8 + padded;
        }
        return bytes;
    }

    private static void WriteHeader(Span<byte> s, DicomTag tag, uint length)
    {
        BinaryPrimitives.WriteUInt16LittleEndian(s, tag.Group);
        BinaryPrimitives.WriteUInt16LittleEndian(s[2..], tag.Element);
        BinaryPrimitives.WriteUInt32LittleEndian(s[4..], length);
    }

    /// <summary>Decodes an implicit VR little endian command set; VRs come from the dictionary.</summary>
    /// <exception cref="DicomProtocolException">Malformed command (truncated element, tag outside group 0000, missing command field).</exception>
    public static DicomDataset Decode(ReadOnlySpan<byte> bytes)
    {
        var ds = new DicomDataset();
        int pos = 0;
        uint last = 0;
        bool first = true;
        while (pos < bytes.Length)
        {
            if (bytes.Length - pos < 8)
                throw new DicomProtocolException($"Command set ends inside an element header at byte {pos}", DicomAbortReason.InvalidPduParameterValue);
            var tag = new DicomTag(BinaryPrimitives.ReadUInt16LittleEndian(bytes[pos..]), BinaryPrimitives.ReadUInt16LittleEndian(bytes[(pos + 2)..]));
            uint length = BinaryPrimitives.ReadUInt32LittleEndian(bytes[(pos + 4)..]);
            if (tag.Group != 0x0000)
                throw new DicomProtocolException($"Command set holds element {tag} outside group 0000", DicomAbortReason.InvalidPduParameterValue);
            if (!first && tag.Value <= last)
                throw new DicomProtocolException($"Command set elements out of order at {tag}", DicomAbortReason.InvalidPduParameterValue);
            if (length > (uint)(bytes.Length - pos - 8))
                throw new DicomProtocolException($"Command element {tag} length {length} exceeds the command set", DicomAbortReason.InvalidPduParameterValue);
            var vr = DicomDictionary.GetDefaultVR(tag);
            if (vr is DicomVR.SQ or DicomVR.None) vr = DicomVR.UN;
            ds.Set(new DicomValueElement(tag, vr, DicomBuffer.From(bytes.Slice(pos + 8, (int)length).ToArray())));
            last = tag.Value;
            first = false;
            pos += 8 + (int)length;
        }
        if (!ds.Contains(DicomTags.CommandField))
            throw new DicomProtocolException("Command set has no Command Field (0000,0100)", DicomAbortReason.InvalidPduParameterValue);
        return ds;
    }

    // ------------------------------------------------------------------ builders

    /// <summary>A request command: field, affected SOP class, data set type. The association fills in Message ID when sending.</summary>
    public static DicomDataset CreateRequest(DimseCommandField field, string affectedSopClassUid, bool hasDataSet)
    {
        var c = new DicomDataset();
        c.Set(DicomTags.AffectedSOPClassUID, DicomVR.UI, affectedSopClassUid);
        c.Set<ushort>(DicomTags.CommandField, DicomVR.US, (ushort)field);
        c.Set<ushort>(DicomTags.CommandDataSetType, DicomVR.US, hasDataSet ? DataSetPresent : NoDataSet);
        return c;
    }

    public static DicomDataset CreateEchoRequest() => CreateRequest(DimseCommandField.CEchoRequest, DicomUids.Verification, false);

    public static DicomDataset CreateStoreRequest(string sopClassUid, string sopInstanceUid, DimsePriority priority = DimsePriority.Medium,
        string? moveOriginatorAE = null, ushort? moveOriginatorMessageId = null)
    {
        var c = CreateRequest(DimseCommandField.CStoreRequest, sopClassUid, true);
        c.Set<ushort>(DicomTags.Priority, DicomVR.US, (ushort)priority);
        c.Set(DicomTags.AffectedSOPInstanceUID, DicomVR.UI, sopInstanceUid);
        if (moveOriginatorAE != null) c.Set(DicomTags.MoveOriginatorApplicationEntityTitle, DicomVR.AE, moveOriginatorAE);
        if (moveOriginatorMessageId is { } id) c.Set<ushort>(DicomTags.MoveOriginatorMessageID, DicomVR.US, id);
        return c;
    }

    /// <summary>C-CANCEL-RQ for the operation with message ID <paramref name="messageIdBeingCancelled"/>.</summary>
    public static DicomDataset CreateCancelRequest(ushort messageIdBeingCancelled)
    {
        var c = new DicomDataset();
        c.Set<ushort>(DicomTags.CommandField, DicomVR.US, (ushort)DimseCommandField.CCancelRequest);
        c.Set<ushort>(DicomTags.MessageIDBeingRespondedTo, DicomVR.US, messageIdBeingCancelled);
        c.Set<ushort>(DicomTags.CommandDataSetType, DicomVR.US, NoDataSet);
        return c;
    }

    /// <summary>
    /// A response to <paramref name="request"/>: response command field, Message ID Being Responded To, the affected SOP
    /// class/instance copied from the request (C-STORE, C-ECHO, C-FIND, ...), status, and optionally an error comment.
    /// </summary>
    public static DicomDataset CreateResponse(DicomDataset request, DicomStatus status, bool hasDataSet = false, string? errorComment = null)
    {
        var field = (DimseCommandField)request.GetOrDefault<ushort>(DicomTags.CommandField, 0);
        var c = new DicomDataset();
        var sopClass = request.GetString(DicomTags.AffectedSOPClassUID);
        if (sopClass.Length == 0) sopClass = request.GetString(DicomTags.RequestedSOPClassUID);
        if (sopClass.Length > 0) c.Set(DicomTags.AffectedSOPClassUID, DicomVR.UI, sopClass);
        c.Set<ushort>(DicomTags.CommandField, DicomVR.US, (ushort)ResponseFieldFor(field));
        c.Set<ushort>(DicomTags.MessageIDBeingRespondedTo, DicomVR.US, request.GetOrDefault<ushort>(DicomTags.MessageID, 0));
        c.Set<ushort>(DicomTags.CommandDataSetType, DicomVR.US, hasDataSet ? DataSetPresent : NoDataSet);
        c.Set<ushort>(DicomTags.Status, DicomVR.US, status.Code);
        var instance = request.GetString(DicomTags.AffectedSOPInstanceUID);
        if (instance.Length == 0) instance = request.GetString(DicomTags.RequestedSOPInstanceUID);
        if (instance.Length > 0) c.Set(DicomTags.AffectedSOPInstanceUID, DicomVR.UI, instance);
        if (!string.IsNullOrEmpty(errorComment) && status.State is DicomStatusState.Failure or DicomStatusState.Warning)
            c.Set(DicomTags.ErrorComment, DicomVR.LO, Truncate(errorComment, 64));
        return c;
    }

    private static string Truncate(string s, int max)
    {
        s = new string(s.Select(ch => ch is '\\' or < ' ' or > '~' ? ' ' : ch).ToArray());
        return s.Length <= max ? s : s[..max];
    }
}

/// <summary>A complete DIMSE message as received: command set, presentation context, and (for responses) the decoded data set.</summary>
public sealed class DimseMessage(byte presentationContextId, DicomDataset command, DicomDataset? dataset = null)
{
    public byte PresentationContextId { get; } = presentationContextId;
    public DicomDataset Command { get; } = command;

    /// <summary>The data set of a response (e.g. a C-FIND match), decoded; null when none was sent. Requests stream theirs instead.</summary>
    public DicomDataset? Dataset { get; } = dataset;

    public DimseCommandField CommandField => (DimseCommandField)Command.GetOrDefault<ushort>(DicomTags.CommandField, 0);
    public ushort MessageId => Command.GetOrDefault<ushort>(DicomTags.MessageID, 0);
    public ushort MessageIdBeingRespondedTo => Command.GetOrDefault<ushort>(DicomTags.MessageIDBeingRespondedTo, 0);
    public bool HasDataSet => Command.GetOrDefault<ushort>(DicomTags.CommandDataSetType, DimseCommand.NoDataSet) != DimseCommand.NoDataSet;
    public bool IsResponse => DimseCommand.IsResponse(CommandField);
    public DicomStatus Status => new(Command.GetOrDefault<ushort>(DicomTags.Status, 0));
    public string AffectedSopClassUid => Command.GetString(DicomTags.AffectedSOPClassUID);
    public string AffectedSopInstanceUid => Command.GetString(DicomTags.AffectedSOPInstanceUID);
    public string ErrorComment => Command.GetString(DicomTags.ErrorComment);

    public override string ToString() =>
        IsResponse ? $"{CommandField} to #{MessageIdBeingRespondedTo} {Status}" : $"{CommandField} #{MessageId} {AffectedSopClassUid}";
}
