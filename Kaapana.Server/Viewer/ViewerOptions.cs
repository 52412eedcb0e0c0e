namespace Kaapana.Server.Viewer;

/// <summary>
/// Settings of the OHIF viewer served at <c>/viewer</c>, bound from <c>Kaapana:Viewer</c> (env: <c>Kaapana__Viewer__*</c>).
/// The viewer is not part of the build: the server fetches the pinned <c>@ohif/app</c> package from an npm registry on its
/// first start and keeps the installed copy.
/// </summary>
public sealed class ViewerOptions
{
    public const string SectionName = "Kaapana:Viewer";

    /// <summary>The OHIF release this code was written and tested against.</summary>
    public const string PinnedVersion = "3.13.2";

    /// <summary><c>dist.integrity</c> of <c>@ohif/app@3.13.2</c>, so a tampered or truncated download is refused.</summary>
    public const string PinnedIntegrity =
        "sha512-WZdxmpmG7rqFgW9ZJLcbgr3XCtLi1KDNPoMaeY5PPe6j4G4fjEjjkycZM6C6Zk2F87BKxFfpq+jd5xXZB9E8EA==";

    /// <summary>Off switch: when false nothing is downloaded and <c>/viewer</c> answers 404 saying so.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>Version of <c>@ohif/app</c>. Another version installs beside the pinned one, but its base-path rewrites are untested.</summary>
    public string Version { get; set; } = PinnedVersion;

    /// <summary>
    /// Expected Subresource-Integrity string of the package tarball. Empty: <see cref="PinnedIntegrity"/> for the pinned
    /// version, otherwise whatever the registry announces (which still catches a corrupted download).
    /// </summary>
    public string? Integrity { get; set; }

    /// <summary>npm registry base URL (a mirror such as Verdaccio or Artifactory works the same way).</summary>
    public string Registry { get; set; } = "https://registry.npmjs.org/";

    /// <summary>
    /// A local copy of the package tarball (e.g. from <c>npm pack @ohif/app@3.13.2</c>) for machines without registry access;
    /// used instead of the registry and checked against <see cref="ExpectedIntegrity"/> (required then).
    /// </summary>
    public string? PackageFile { get; set; }

    /// <summary>
    /// Folder holding installed viewers, one subfolder per version (<c>ohif-3.13.2</c>). Empty: <c>&lt;DataDir&gt;/viewer</c>,
    /// so a server's state stays in one folder (one volume to keep in a container). Several servers may share a folder:
    /// installs are atomic renames and an existing install is reused.
    /// </summary>
    public string? InstallRoot { get; set; }

    /// <summary>Limit for fetching the package (about 50 MB).</summary>
    public TimeSpan DownloadTimeout { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>Wait before trying again after a failed install; zero: try only once per start.</summary>
    public TimeSpan RetryInterval { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>OHIF's own study list at <c>/viewer/</c> (it lists what QIDO returns).</summary>
    public bool ShowStudyList { get; set; } = true;

    /// <summary>The integrity string to check the download against, or null to take the registry's.</summary>
    public string? ExpectedIntegrity =>
        !string.IsNullOrWhiteSpace(Integrity) ? Integrity.Trim()
        : Version == PinnedVersion ? PinnedIntegrity
        : null;
}
