namespace Kaapana.Core.Workflows.Docker;

/// <summary>What the engine knows of an image: enough to pin it and to read the manifest it carries.</summary>
/// <param name="Id">Content-addressed image ID (<c>sha256:…</c>); stable for the same image on this engine, and what a run pins.</param>
/// <param name="RepoDigests">Registry digests (<c>name@sha256:…</c>); empty for images built or imported locally.</param>
public sealed record ContainerImageInfo(
    string Id,
    IReadOnlyList<string> RepoTags,
    IReadOnlyList<string> RepoDigests,
    IReadOnlyDictionary<string, string> Labels,
    DateTimeOffset Created)
{
    /// <summary>The algorithm manifest (JSON) shipped in the image, or null.</summary>
    public string? AlgorithmManifestJson => Labels.GetValueOrDefault(ContainerLabels.Algorithm);

    /// <summary>The reference to run for reproducibility: a registry digest when there is one, else the image ID.</summary>
    public string PinnedReference => RepoDigests.Count > 0 ? RepoDigests[0] : Id;
}
