using Microsoft.EntityFrameworkCore;

namespace Kaapana.Core.Archive.Index;

/// <summary>
/// The archive index. The model uses only provider-neutral configuration (no SQLite column
/// types or pragmas) so that a PostgreSQL provider can be added with its own migrations.
/// </summary>
public sealed class KaapanaDbContext(DbContextOptions<KaapanaDbContext> options) : DbContext(options)
{
    public DbSet<Project> Projects => Set<Project>();

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        modelBuilder.Entity<Project>(project =>
        {
            project.Property(p => p.Name).HasMaxLength(200);
            project.Property(p => p.Description).HasMaxLength(4000);
            project.HasIndex(p => p.Name).IsUnique();
        });
    }
}
