using System.Net;
using Kaapana.Core.Auth;
using Kaapana.Tests.Archive.Dicom;

namespace Kaapana.Tests.Auth.Hardening;

/// <summary>
/// Issue 9's brute-force case against real servers with the shipped lockout settings (20 wrong passwords): wrong passwords on
/// the sign-in page and over HTTP Basic count together, then even the right password is refused on both doors; after the
/// configured time it works again. Neither the server's output, its log files nor the audit trail hold any password tried.
/// </summary>
public sealed class BruteForceLockoutTests : IDisposable
{
    /// <summary>The shipped default of Kaapana:Auth:MaxFailedAccessAttempts; the servers here do not override it.</summary>
    private const int ShippedMaxFailedAttempts = 20;

    private readonly List<DirectoryInfo> _folders = [];

    [Fact]
    public async Task Twenty_wrong_passwords_lock_the_account_on_the_page_and_over_basic_and_no_password_is_logged()
    {
        const string user = "bruno", password = "Bruno-right-pw-1";
        await using var server = await StartAsync();
        await using var accounts = new AccountStore(server.IndexPath);
        await accounts.CreateAsync(user, password, KaapanaRoles.Researcher);
        var guesses = Guesses(user);

        var before = DateTimeOffset.UtcNow;
        var answers = await GuessAsync(server, user, guesses);
        var after = DateTimeOffset.UtcNow;
        // Page guesses first: all "wrong"; then Basic: 401 each, the last one locking the account.
        Assert.Equal([.. Enumerable.Repeat("wrong", ShippedMaxFailedAttempts / 2), .. Enumerable.Repeat("401", ShippedMaxFailedAttempts / 2)], answers);

        // The 21st attempt, with the right password: refused on the page (with the lockout message) and over Basic.
        using (var form = new SignInForm(server.BaseAddress))
            Assert.Equal("locked", await form.AttemptAsync(user, password));
        using (var basic = Basic(server, user, password))
        using (var refused = await basic.GetAsync("/api/projects"))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
            Assert.Equal("Basic", Assert.Single(refused.Headers.WwwAuthenticate).Scheme);
        }

        // Locked for the shipped 15 minutes from the 20th wrong password (a check of the stored time, not of elapsed time).
        var row = (await accounts.Admin.ListAsync()).Single(u => u.UserName == user);
        Assert.NotNull(row.LockedOutUntil);
        Assert.InRange(row.LockedOutUntil.Value, before.AddMinutes(15).AddSeconds(-1), after.AddMinutes(15).AddSeconds(1));

        // The trail shows every failure on both doors (the locked-out right password too), and no password.
        using var admin = server.CreateClient();
        var (signIns, signInBody) = await AuditTrailPoll.WaitAsync(admin, $"actor={user}&action={Kaapana.Core.Audit.AuditActions.SignIn}&limit=100",
            items => items.Count == ShippedMaxFailedAttempts / 2 + 1);
        var (basics, basicBody) = await AuditTrailPoll.WaitAsync(admin, $"actor={user}&action={Kaapana.Core.Audit.AuditActions.BasicSignIn}&limit=100",
            items => items.Count == ShippedMaxFailedAttempts / 2 + 1);
        Assert.All(AuditTrailPoll.ActorOutcomes(signIns.Concat(basics)), o => Assert.Equal($"{user}:denied", o));
        // Locked out: the 20th guess (Basic, which locked the account) and both 21st attempts with the right password.
        Assert.Equal(3, signIns.Concat(basics).Count(e => e.GetProperty("details").GetString()!.Contains("\"lockedOut\":true", StringComparison.Ordinal)));
        AssertNoPassword(server, [password, .. guesses], signInBody + basicBody);
    }

    [Fact]
    public async Task After_the_configured_lockout_time_the_right_password_works_again_on_the_page_and_over_basic()
    {
        const string user = "lena", password = "Lena-right-pw-1";
        var lockout = TimeSpan.FromSeconds(5);
        await using var server = await StartAsync(new() { ["Kaapana__Auth__LockoutDuration"] = lockout.ToString() });
        await using var accounts = new AccountStore(server.IndexPath);
        await accounts.CreateAsync(user, password, KaapanaRoles.Researcher);

        var before = DateTimeOffset.UtcNow;
        var answers = await GuessAsync(server, user, Guesses(user));
        var after = DateTimeOffset.UtcNow;
        Assert.Equal(ShippedMaxFailedAttempts, answers.Count(a => a is "wrong" or "401"));

        var row = (await accounts.Admin.ListAsync()).Single(u => u.UserName == user);
        Assert.NotNull(row.LockedOutUntil);
        var until = row.LockedOutUntil.Value;
        Assert.InRange(until, before + lockout - TimeSpan.FromSeconds(1), after + lockout + TimeSpan.FromSeconds(1));

        // Wait out the stored lockout end (plus a margin for clock granularity), then both doors let the right password in.
        var wait = until - DateTimeOffset.UtcNow + TimeSpan.FromMilliseconds(500);
        if (wait > TimeSpan.Zero) await Task.Delay(wait);
        using (var form = new SignInForm(server.BaseAddress))
            Assert.Equal("signed-in", await form.AttemptAsync(user, password));
        using (var basic = Basic(server, user, password))
        using (var ok = await basic.GetAsync("/api/projects"))
            Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        // A successful sign-in clears the failure count: the account is not one wrong password away from the next lockout.
        Assert.Equal(0, (await accounts.Admin.ListAsync()).Single(u => u.UserName == user).FailedAttempts);
    }

    /// <summary>Distinct wrong passwords, recognisable in any log or trail they might leak into.</summary>
    private static string[] Guesses(string user) =>
        Enumerable.Range(1, ShippedMaxFailedAttempts).Select(i => $"Guess-{user}-{i:00}-x").ToArray();

    /// <summary>The first half on the sign-in page ("wrong"/"locked"), the rest over HTTP Basic on /api (status code).</summary>
    private static async Task<List<string>> GuessAsync(KaapanaServer server, string user, string[] guesses)
    {
        var answers = new List<string>();
        using (var form = new SignInForm(server.BaseAddress))
        {
            foreach (var guess in guesses[..(guesses.Length / 2)]) answers.Add(await form.AttemptAsync(user, guess));
        }
        foreach (var guess in guesses[(guesses.Length / 2)..])
        {
            using var basic = Basic(server, user, guess);
            using var response = await basic.GetAsync("/api/projects");
            answers.Add(((int)response.StatusCode).ToString());
        }
        return answers;
    }

    private static HttpClient Basic(KaapanaServer server, string user, string password)
    {
        var http = TestCredentials.Anonymous(server.BaseAddress);
        http.DefaultRequestHeaders.Authorization = TestCredentials.Basic(user, password);
        return http;
    }

    private static void AssertNoPassword(KaapanaServer server, IEnumerable<string> passwords, string auditBody)
    {
        var logs = string.Join("\n", Directory.GetFiles(Path.Combine(server.DataDir, "logs")).Select(ReadShared));
        Assert.NotEmpty(logs);
        foreach (var (name, text) in new[] { ("server output", server.Output), ("log files", logs), ("audit trail", auditBody) })
        {
            foreach (var password in passwords)
                Assert.False(text.Contains(password, StringComparison.Ordinal), $"the {name} contains the password {password}");
        }
    }

    private static string ReadShared(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }

    private async Task<KaapanaServer> StartAsync(Dictionary<string, string>? settings = null)
    {
        var data = Directory.CreateTempSubdirectory("kaapana-bruteforce-");
        _folders.Add(data);
        settings ??= [];
        settings["Kaapana__Viewer__Enabled"] = "false";
        return await KaapanaServer.StartAsync(data.FullName, settings);
    }

    public void Dispose()
    {
        foreach (var folder in _folders) folder.Delete(recursive: true);
    }
}
