using Kaapana.Core.Archive.Index;
using Kaapana.Core.Workflows.Manifest;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Kaapana.Core.Workflows.BuiltIn;

/// <summary>
/// At start-up, makes every built-in an algorithm row (kind BuiltIn), so launching, listing and the launch form treat it like
/// a registered image. An existing row gets the current code's manifest (the code is what runs); its Enabled flag is kept.
/// </summary>
public sealed class BuiltInAlgorithmSeeder(IDbContextFactory<KaapanaDbContext> dbFactory, BuiltInWorkflows builtIns, ILogger<BuiltInAlgorithmSeeder> logger) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        foreach (var workflow in builtIns.All)
        {
            var m = workflow.Manifest;
            var errors = ManifestParser.Validate(m);
            if (errors.Count > 0) throw new InvalidOperationException($"Built-in {m.Name} has an invalid manifest: {string.Join("; ", errors)}");
            var json = ManifestParser.ToJson(m);
            var digest = BuiltInWorkflows.Digest(m.Name, m.Version);
            var row = await db.Algorithms.FirstOrDefaultAsync(a => a.Name == m.Name && a.Version == m.Version, cancellationToken);
            if (row is null)
            {
                db.Algorithms.Add(new Algorithm
                {
                    Name = m.Name, Version = m.Version, Kind = AlgorithmKind.BuiltIn, ImageReference = m.Image ?? m.Name, ImageDigest = digest,
                    ManifestJson = json, ManifestFromImage = false, Enabled = true, RegisteredAt = DateTime.UtcNow,
                });
                logger.LogInformation("Built-in algorithm {Name} {Version} registered", m.Name, m.Version);
            }
            else
            {
                row.Kind = AlgorithmKind.BuiltIn;
                row.ImageDigest = digest;
                row.ManifestJson = json;
            }
        }
        await db.SaveChangesAsync(cancellationToken);
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
