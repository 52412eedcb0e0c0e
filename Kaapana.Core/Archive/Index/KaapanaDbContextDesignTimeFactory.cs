using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;

namespace Kaapana.Core.Archive.Index;

/// <summary>
/// Used only by <c>dotnet ef</c>: lets it build the model without starting the server
/// (which would create a data folder). Never opens the database for <c>migrations add</c>.
/// </summary>
internal sealed class KaapanaDbContextDesignTimeFactory : IDesignTimeDbContextFactory<KaapanaDbContext>
{
    public KaapanaDbContext CreateDbContext(string[] args) =>
        new(new DbContextOptionsBuilder<KaapanaDbContext>().UseSqlite("Data Source=design-time.db").Options);
}
