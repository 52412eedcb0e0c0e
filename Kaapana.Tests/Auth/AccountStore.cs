using Kaapana.Core.Archive.Index;
using Kaapana.Core.Auth;
using Microsoft.AspNetCore.Identity;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Kaapana.Tests.Auth;

/// <summary>
/// The accounts of a running test server, changed the way the admin page changes them (<see cref="UserAdministration"/>),
/// directly in its index database (SQLite WAL: our writes and the server's reads do not block each other).
/// </summary>
public sealed class AccountStore : IAsyncDisposable
{
    private readonly ServiceProvider _services;

    public AccountStore(string indexPath)
    {
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddDataProtection(); // password reset tokens; an in-memory key ring is enough for one process
        services.AddDbContext<KaapanaDbContext>(o =>
            o.UseSqlite(new SqliteConnectionStringBuilder { DataSource = indexPath, Pooling = false }.ToString()));
        services.AddIdentityCore<KaapanaUser>(o => o.Password.RequiredLength = 8)
            .AddRoles<IdentityRole>()
            .AddEntityFrameworkStores<KaapanaDbContext>()
            .AddDefaultTokenProviders();
        services.AddSingleton<UserAdministration>();
        _services = services.BuildServiceProvider();
        Admin = _services.GetRequiredService<UserAdministration>();
    }

    public UserAdministration Admin { get; }

    /// <summary>Creates the user and returns its id; fails the test with Identity's reason otherwise.</summary>
    public async Task<string> CreateAsync(string userName, string password, string role)
    {
        var result = await Admin.CreateAsync(userName, password, role);
        Assert.True(result.Succeeded, result.Error);
        return (await Admin.ListAsync()).Single(u => u.UserName == userName).Id;
    }

    public ValueTask DisposeAsync() => _services.DisposeAsync();
}
