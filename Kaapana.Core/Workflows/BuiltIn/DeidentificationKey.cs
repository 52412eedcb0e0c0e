namespace Kaapana.Core.Workflows.BuiltIn;

/// <summary>
/// The secret behind a target project's de-identification mapping (Kaapana.Dicom HmacDeidentificationMapping): made once, when
/// data is first de-identified into the project, and kept, so the same source always gets the same UIDs and pseudonyms there
/// and another project gets unrelated ones. As sensitive as the original data (it confirms guessed originals).
/// </summary>
public sealed class DeidentificationKey
{
    public int ProjectId { get; set; }

    /// <summary>32 random bytes.</summary>
    public required byte[] Secret { get; set; }

    public DateTime CreatedAt { get; set; }
}
