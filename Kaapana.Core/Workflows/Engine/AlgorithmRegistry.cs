using Kaapana.Core.Archive.Index;
using Kaapana.Core.Workflows.Docker;
using Kaapana.Core.Workflows.Manifest;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;

namespace Kaapana.Core.Workflows.Engine;

/// <param name="Image">Image reference on the container engine; may be omitted when <paramref name="ManifestJson"/> names one.</param>
/// <param name="ManifestJson">Uploaded manifest; null to read the image's <c>org.kaapana.algorithm</c> label.</param>
/// <param name="AllowNetwork">An admin grants the network access the manifest asks for.</param>
public sealed record RegisterAlgorithmRequest(string? Image, string? ManifestJson, bool AllowNetwork = false);

public enum RegistrationOutcome
{
    Registered,
    AlreadyRegistered,
    Invalid,
    Conflict,
    EngineUnavailable,
}

public sealed record RegistrationResult(RegistrationOutcome Outcome, Algorithm? Algorithm, IReadOnlyList<string> Errors);

/// <summary>Registers algorithm images: reads and validates the manifest, pins the image digest, stores both.</summary>
public sealed class AlgorithmRegistry(IDbContextFactory<KaapanaDbContext> dbFactory, IContainerRunner runner, ILogger<AlgorithmRegistry> logger)
{
    public async Task<RegistrationResult> RegisterAsync(RegisterAlgorithmRequest request, CancellationToken ct = default)
    {
        AlgorithmManifest? uploaded = null;
        if (request.ManifestJson is not null)
        {
            var parsed = ManifestParser.Parse(request.ManifestJson);
            if (!parsed.IsValid) return Invalid([.. parsed.Errors.Select(e => "manifest " + e)]);
            uploaded = parsed.Manifest;
            if (IsReserved(uploaded!.Name)) return Invalid([Reserved]);
        }
        var image = string.IsNullOrWhiteSpace(request.Image) ? uploaded?.Image : request.Image.Trim();
        if (string.IsNullOrWhiteSpace(image))
            return Invalid(["give an image reference, or a manifest whose 'image' names one"]);

        ContainerImageInfo? info;
        try
        {
            info = await runner.InspectImageAsync(image, ct);
        }
        catch (ContainerEngineException e)
        {
            return new RegistrationResult(RegistrationOutcome.EngineUnavailable, null, [$"the container engine is unavailable: {e.Message}"]);
        }
        if (info is null)
            return Invalid([$"image '{image}' is not on the container engine; build or load it there first (images are never pulled)"]);

        var manifest = uploaded;
        if (manifest is null)
        {
            if (info.AlgorithmManifestJson is not { } label)
                return Invalid([$"image '{image}' has no {ContainerLabels.Algorithm} label; upload a manifest with it"]);
            var parsed = ManifestParser.Parse(label);
            if (!parsed.IsValid) return Invalid([.. parsed.Errors.Select(e => $"manifest in the {ContainerLabels.Algorithm} label of '{image}': {e}")]);
            manifest = parsed.Manifest!;
        }
        if (IsReserved(manifest.Name)) return Invalid([Reserved]);
        manifest = manifest with { Image = image };
        var digest = info.PinnedReference;

        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var existing = await db.Algorithms.FirstOrDefaultAsync(a => a.Name == manifest.Name && a.Version == manifest.Version, ct);
        if (existing is not null)
        {
            if (existing.ImageDigest != digest)
                return new RegistrationResult(RegistrationOutcome.Conflict, existing,
                    [$"{manifest.Name} {manifest.Version} is registered with image {existing.ImageDigest}; '{image}' is now {digest}. Give the new image a new version."]);
            return new RegistrationResult(RegistrationOutcome.AlreadyRegistered, existing, []);
        }
        var algorithm = new Algorithm
        {
            Name = manifest.Name, Version = manifest.Version, ImageReference = image, ImageDigest = digest,
            ManifestJson = ManifestParser.ToJson(manifest), ManifestFromImage = uploaded is null, Enabled = true,
            NetworkAllowed = manifest.Network && request.AllowNetwork, RegisteredAt = DateTime.UtcNow,
        };
        db.Algorithms.Add(algorithm);
        await db.SaveChangesAsync(ct);
        logger.LogInformation("Registered algorithm {Name} {Version} from {Image} pinned to {Digest}", algorithm.Name, algorithm.Version, image, digest);
        return new RegistrationResult(RegistrationOutcome.Registered, algorithm, []);
    }

    private static readonly string Reserved = $"manifest $.name: names starting with '{BuiltIn.BuiltInWorkflows.NamePrefix}' are reserved for the server's built-in algorithms";

    private static bool IsReserved(string name) => name.StartsWith(BuiltIn.BuiltInWorkflows.NamePrefix, StringComparison.Ordinal);

    public async Task<IReadOnlyList<Algorithm>> ListAsync(CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        return await db.Algorithms.AsNoTracking().OrderBy(a => a.Name).ThenBy(a => a.Version).ToListAsync(ct);
    }

    /// <summary>Built-in algorithms run without the container engine, so commands on them do not need it.</summary>
    public async Task<bool> IsBuiltInAsync(int algorithmId, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        return await db.Algorithms.AnyAsync(a => a.Id == algorithmId && a.Kind == AlgorithmKind.BuiltIn, ct);
    }

    /// <summary>Whether a run's algorithm is built in (false for an unknown run).</summary>
    public async Task<bool> IsBuiltInRunAsync(long runId, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        return await db.WorkflowRuns.AnyAsync(r => r.Id == runId && r.ImageDigest.StartsWith(BuiltIn.BuiltInWorkflows.DigestPrefix), ct);
    }

    public async Task<Algorithm?> GetAsync(int id, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        return await db.Algorithms.AsNoTracking().FirstOrDefaultAsync(a => a.Id == id, ct);
    }

    public async Task<bool> SetEnabledAsync(int id, bool enabled, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        return await db.Algorithms.Where(a => a.Id == id).ExecuteUpdateAsync(u => u.SetProperty(a => a.Enabled, enabled), ct) > 0;
    }

    private static RegistrationResult Invalid(IReadOnlyList<string> errors) => new(RegistrationOutcome.Invalid, null, errors);
}
