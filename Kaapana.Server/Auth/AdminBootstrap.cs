using System.Security.Cryptography;
using Kaapana.Core;
using Kaapana.Core.Auth;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Options;

namespace Kaapana.Server.Auth;

/// <summary>
/// First run: creates the roles and, while there is no account at all, the <c>admin</c> account. Its password comes from
/// <c>Kaapana:AdminPassword</c> (env <c>Kaapana__AdminPassword</c>); without one a strong password is generated, logged
/// once as a warning and written to <c>&lt;DataDir&gt;/admin-password.txt</c> (mode 0600). Runs after the index
/// migration and before the web server takes requests. A configured password is never logged.
/// </summary>
public sealed class AdminBootstrap(
    IServiceScopeFactory scopes,
    IConfiguration configuration,
    IOptions<KaapanaOptions> kaapana,
    ILogger<AdminBootstrap> logger) : IHostedService
{
    public const string AdminUserName = "admin";
    public const string PasswordFileName = "admin-password.txt";

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var roles = scope.ServiceProvider.GetRequiredService<RoleManager<IdentityRole>>();
        var users = scope.ServiceProvider.GetRequiredService<UserManager<KaapanaUser>>();

        foreach (var role in KaapanaRoles.All)
        {
            if (!await roles.RoleExistsAsync(role)) Check(await roles.CreateAsync(new IdentityRole(role)), $"create role {role}");
        }

        if (users.Users.Any()) return;

        var configured = configuration["Kaapana:AdminPassword"];
        var password = string.IsNullOrEmpty(configured) ? GeneratePassword() : configured;
        var admin = new KaapanaUser(AdminUserName);
        var created = await users.CreateAsync(admin, password);
        if (!created.Succeeded && !string.IsNullOrEmpty(configured))
        {
            // The message lists the rules broken, never the password.
            throw new InvalidOperationException("Kaapana:AdminPassword is not accepted as the admin password: " +
                string.Join(" ", created.Errors.Select(e => e.Description)));
        }
        Check(created, "create the admin account");
        Check(await users.AddToRoleAsync(admin, KaapanaRoles.Admin), "make admin an Admin");

        if (!string.IsNullOrEmpty(configured))
        {
            logger.LogInformation("Created the account {User} with the password from Kaapana:AdminPassword", AdminUserName);
            return;
        }

        var file = Path.Combine(kaapana.Value.DataDir, PasswordFileName);
        await WriteOwnerOnlyAsync(file, password + "\n", cancellationToken);
        logger.LogWarning(
            "Created the account {User} with the generated password {Password} (also in {File}); sign in and change it, it is shown only once",
            AdminUserName, password, file);
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    private static void Check(IdentityResult result, string what)
    {
        if (!result.Succeeded)
            throw new InvalidOperationException($"Could not {what}: {string.Join(" ", result.Errors.Select(e => e.Description))}");
    }

    /// <summary>24 characters from a CSPRNG, with every class Identity's password rules ask for.</summary>
    internal static string GeneratePassword()
    {
        const string lower = "abcdefghijkmnopqrstuvwxyz", upper = "ABCDEFGHJKLMNPQRSTUVWXYZ", digits = "23456789", symbols = "-_.!#%+=";
        const string all = lower + upper + digits + symbols;
        var chars = new char[24];
        chars[0] = lower[RandomNumberGenerator.GetInt32(lower.Length)];
        chars[1] = upper[RandomNumberGenerator.GetInt32(upper.Length)];
        chars[2] = digits[RandomNumberGenerator.GetInt32(digits.Length)];
        chars[3] = symbols[RandomNumberGenerator.GetInt32(symbols.Length)];
        for (var i = 4; i < chars.Length; i++) chars[i] = all[RandomNumberGenerator.GetInt32(all.Length)];
        RandomNumberGenerator.Shuffle(chars.AsSpan());
        return new string(chars);
    }

    private static async Task WriteOwnerOnlyAsync(string path, string text, CancellationToken cancellationToken)
    {
        var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows()) options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        await using (var stream = new FileStream(path, options))
        await using (var writer = new StreamWriter(stream))
        {
            await writer.WriteAsync(text.AsMemory(), cancellationToken);
        }
        // UnixCreateMode applies only to a new file; an old one left behind keeps its mode unless set again.
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
    }
}
