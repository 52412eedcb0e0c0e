using Kaapana.Core.Archive.Index;
using Microsoft.EntityFrameworkCore;

namespace Kaapana.Core.Archive.Tags;

/// <summary>The tag tables' mapping, called from <see cref="KaapanaDbContext"/>.</summary>
public static class TagsModel
{
    public const int MaxTagLength = 64;

    public static void Configure(ModelBuilder modelBuilder)
    {
        modelBuilder.Entity<SeriesTag>(t =>
        {
            t.HasKey(x => new { x.SeriesId, x.Tag });
            t.Property(x => x.Tag).HasMaxLength(MaxTagLength);
            t.Property(x => x.CreatedBy).HasMaxLength(256);
            // Covering for "series carrying one of these tags" (the Tags facet filter).
            t.HasIndex(x => new { x.Tag, x.SeriesId });
            t.HasOne<Series>().WithMany().HasForeignKey(x => x.SeriesId).OnDelete(DeleteBehavior.Cascade);
        });

        modelBuilder.Entity<TagUsage>(u =>
        {
            u.HasKey(x => new { x.ProjectId, x.Tag });
            u.Property(x => x.Tag).HasMaxLength(MaxTagLength);
            u.HasIndex(x => new { x.ProjectId, x.LastUsedAt });
            u.HasOne<Project>().WithMany().HasForeignKey(x => x.ProjectId).OnDelete(DeleteBehavior.Cascade);
        });
    }
}
