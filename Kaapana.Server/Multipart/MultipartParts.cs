using Microsoft.AspNetCore.WebUtilities;

namespace Kaapana.Server.Multipart;

/// <summary>
/// A multipart request body read part by part as it arrives, for the streaming uploads (STOW-RS and <c>/api/uploads</c>).
/// Parts have no size limit (MultipartReader's default of 128 MB per part would refuse a large CT series' zip or a
/// whole-body multi-frame instance). A damaged body ends the iteration with <see cref="Fault"/> set instead of throwing,
/// so the endpoint can answer 400 and still list what it stored from the parts received whole before the damage.
/// </summary>
internal sealed class MultipartParts(string boundary, Stream body)
{
    private readonly MultipartReader _reader = new(boundary, body) { BodyLengthLimit = null };

    /// <summary>How many parts have been started.</summary>
    public int Count { get; private set; }

    /// <summary>Why the body could not be read on between parts (no first boundary, no closing boundary, oversized part headers), or null.</summary>
    public Exception? Fault { get; private set; }

    /// <summary>The next part, or null at the end of the body or at damage between parts (then <see cref="Fault"/> says why).</summary>
    public async Task<MultipartSection?> NextAsync(CancellationToken ct)
    {
        try
        {
            var section = await _reader.ReadNextSectionAsync(ct);
            if (section is not null) Count++;
            return section;
        }
        catch (Exception ex) when (ex is IOException or InvalidDataException)
        {
            Fault = ex;
            return null;
        }
    }

    /// <summary>The damage between parts in words for the answer, or null when the body was read to its closing boundary.</summary>
    public string? Damage => Fault is null ? null
        : Count == 0 ? $"Malformed multipart body, no part could be read: {Describe(Fault)}"
        : $"malformed multipart body after part {Count}: {Describe(Fault)}";

    /// <summary>The reader's own words for a premature end ("may have already been read by another component") mislead a client.</summary>
    public string Describe(Exception ex) => ex is IOException
        ? $"the body ended before the closing boundary \"--{boundary}--\""
        : ex.Message;
}
