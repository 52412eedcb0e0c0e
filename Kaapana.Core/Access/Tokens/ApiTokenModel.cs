using Kaapana.Core.Archive.Index;
using Kaapana.Core.Auth;
using Microsoft.EntityFrameworkCore;

namespace Kaapana.Core.Access.Tokens;

/// <summary>The token table's mapping, called from <see cref="KaapanaDbContext"/>.</summary>
public static class ApiTokenModel
{
    public const int MaxNameLength = 100;

    public static void Configure(ModelBuilder modelBuilder)
    {
        modelBuilder.Entity<ApiToken>(t =>
        {
            t.Property(x => x.UserId).HasMaxLength(450); // Identity's key length
            t.Property(x => x.Name).HasMaxLength(MaxNameLength);
            t.Property(x => x.Prefix).HasMaxLength(ApiTokenText.PrefixLength);
            t.Property(x => x.SecretHash).HasMaxLength(64);
            t.Property(x => x.ProjectIds).HasMaxLength(4000);
            t.Property(x => x.Access).HasConversion<string>().HasMaxLength(16);
            t.HasIndex(x => x.Prefix).IsUnique(); // every request looks its token up by prefix
            t.HasIndex(x => x.UserId);
            t.HasOne<KaapanaUser>().WithMany().HasForeignKey(x => x.UserId).OnDelete(DeleteBehavior.Cascade);
        });
    }
}
