using System.Net;
using Kaapana.Tests.Archive.Dicom;

namespace Kaapana.Tests.Auth;

/// <summary>First run without <c>Kaapana:AdminPassword</c>: a generated password, in the log once and in a 0600 file, that works.</summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")] // the file mode check
public sealed class GeneratedAdminPasswordTests : IDisposable
{
    private readonly DirectoryInfo _data = Directory.CreateTempSubdirectory("kaapana-auth-gen-");

    [Fact]
    public async Task A_generated_admin_password_lands_in_the_file_works_and_is_made_only_once()
    {
        var noPassword = new Dictionary<string, string> { ["Kaapana__AdminPassword"] = "", ["Kaapana__Viewer__Enabled"] = "false" };
        var file = Path.Combine(_data.FullName, "admin-password.txt");
        string password;
        await using (var server = await KaapanaServer.StartAsync(_data.FullName, noPassword))
        {
            Assert.True(File.Exists(file), $"no {file}:\n{server.Output}");
            password = (await File.ReadAllTextAsync(file)).Trim();
            Assert.True(password.Length >= 20, $"generated password too short: {password.Length} characters");
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(file));
            var warning = Assert.Single(server.Output.Split('\n'), l => l.Contains("generated password", StringComparison.Ordinal));
            Assert.Contains("WRN", warning);
            Assert.Contains(password, warning);

            using var admin = TestCredentials.Client(server.BaseAddress);
            admin.DefaultRequestHeaders.Authorization = TestCredentials.Basic(TestCredentials.AdminUser, password);
            using (var ok = await admin.GetAsync("/api/projects")) Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
            using var usual = TestCredentials.Client(server.BaseAddress); // the test suite's usual password was not configured here
            using (var refused = await usual.GetAsync("/api/projects")) Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
            await server.TerminateAsync(TimeSpan.FromSeconds(30));
        }

        // A second start finds the account: no new password, the file and the old password unchanged.
        await using (var again = await KaapanaServer.StartAsync(_data.FullName, noPassword))
        {
            Assert.DoesNotContain("generated password", again.Output);
            Assert.Equal(password, (await File.ReadAllTextAsync(file)).Trim());
            using var admin = TestCredentials.Client(again.BaseAddress);
            admin.DefaultRequestHeaders.Authorization = TestCredentials.Basic(TestCredentials.AdminUser, password);
            using var ok = await admin.GetAsync("/dicomweb/studies");
            Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        }
    }

    public void Dispose() => _data.Delete(recursive: true);
}
