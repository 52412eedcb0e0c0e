using System.Security.Cryptography;
using Kaapana.Core.Archive.Index;
using Kaapana.Dicom.Deidentification;
using Microsoft.EntityFrameworkCore;

namespace Kaapana.Core.Workflows.BuiltIn;

/// <summary>Gives each target project its de-identification mapping, creating the project's secret the first time.</summary>
public sealed class DeidentificationKeys(IDbContextFactory<KaapanaDbContext> dbFactory)
{
    private readonly SemaphoreSlim _create = new(1, 1);

    public async Task<IDeidentificationMapping> MappingForAsync(int projectId, CancellationToken ct)
    {
        var secret = await GetOrCreateSecretAsync(projectId, ct);
        return new HmacDeidentificationMapping(secret, target: "project:" + projectId.ToString(System.Globalization.CultureInfo.InvariantCulture));
    }

    private async Task<byte[]> GetOrCreateSecretAsync(int projectId, CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        if (await db.DeidentificationKeys.AsNoTracking().FirstOrDefaultAsync(k => k.ProjectId == projectId, ct) is { } existing) return existing.Secret;
        // Items of one run execute in parallel: only one may create the key, the others must read that one.
        await _create.WaitAsync(ct);
        try
        {
            if (await db.DeidentificationKeys.AsNoTracking().FirstOrDefaultAsync(k => k.ProjectId == projectId, ct) is { } raced) return raced.Secret;
            var key = new DeidentificationKey { ProjectId = projectId, Secret = RandomNumberGenerator.GetBytes(32), CreatedAt = DateTime.UtcNow };
            db.DeidentificationKeys.Add(key);
            try
            {
                await db.SaveChangesAsync(ct);
                return key.Secret;
            }
            catch (DbUpdateException)
            {
                // Another server process on the same database won: use its key (the primary key is the project).
                await using var again = await dbFactory.CreateDbContextAsync(ct);
                return (await again.DeidentificationKeys.AsNoTracking().FirstAsync(k => k.ProjectId == projectId, ct)).Secret;
            }
        }
        finally
        {
            _create.Release();
        }
    }
}
