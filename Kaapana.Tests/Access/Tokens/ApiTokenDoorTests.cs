using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Kaapana.Core.Auth;
using Kaapana.Tests.Auth;
using Microsoft.EntityFrameworkCore;

namespace Kaapana.Tests.Access.Tokens;

/// <summary>
/// Personal API tokens against a real server process: accepted as Bearer on /api and /dicomweb, refused (401,
/// <c>invalid_token</c>) when expired, revoked, unknown, or when the owner is locked out or deleted; read-only tokens cannot
/// write; a token cannot create tokens; the text is never stored, logged or audited.
/// </summary>
public sealed class ApiTokenDoorTests(AuthServerFixture fixture) : IClassFixture<AuthServerFixture>
{
    private const string Password = "Token-user-pw-1";

    private async Task<HttpClient> NewUserAsync(string name, string role = KaapanaRoles.Researcher)
    {
        await fixture.Accounts.CreateAsync(name, Password, role);
        return fixture.As(name, Password);
    }

    private static async Task AssertRefusedAsync(HttpClient bearer, string path = "/api/projects")
    {
        using var response = await bearer.GetAsync(path);
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        var challenge = response.Headers.WwwAuthenticate.ToString();
        Assert.Contains("Bearer", challenge);
        Assert.Contains("error=\"invalid_token\"", challenge);
    }

    [Fact]
    public async Task A_valid_token_opens_api_and_dicomweb_but_not_pages_and_is_stored_only_hashed()
    {
        using var basic = await NewUserAsync("tok-valid");
        var token = await ApiTokenClient.CreateAsync(basic, "notebook");
        Assert.StartsWith("kpat_", token.Text);
        using var bearer = ApiTokenClient.Bearer(fixture, token.Text);

        Assert.Equal(HttpStatusCode.OK, await fixture.StatusAsync(bearer, "/api/projects"));
        using (var qido = await bearer.GetAsync("/dicomweb/studies"))
            Assert.True(qido.IsSuccessStatusCode, $"QIDO with a token: {(int)qido.StatusCode}");
        // A browser has its cookie: pages do not take tokens, and answer 401 rather than a sign-in redirect.
        Assert.Equal(HttpStatusCode.Unauthorized, await fixture.StatusAsync(bearer, "/browse"));

        var mine = await basic.GetFromJsonAsync<JsonElement>("/api/tokens");
        var row = mine.EnumerateArray().Single(t => t.GetProperty("id").GetInt32() == token.Id);
        Assert.Equal("active", row.GetProperty("status").GetString());
        Assert.Equal("write", row.GetProperty("access").GetString());
        Assert.Equal(JsonValueKind.Null, row.GetProperty("projectIds").ValueKind);
        Assert.NotEqual(JsonValueKind.Null, row.GetProperty("lastUsedAt").ValueKind);
        Assert.StartsWith(row.GetProperty("prefix").GetString()!, token.Text);
        Assert.DoesNotContain(token.Text, mine.GetRawText());
        Assert.DoesNotContain(token.Text[18..], mine.GetRawText());

        // The index holds a hash: neither the text nor its secret part is anywhere in the database files.
        await using (var db = fixture.Server.OpenIndex())
        {
            var stored = await db.ApiTokens.SingleAsync(t => t.Id == token.Id);
            Assert.Equal(64, stored.SecretHash.Length);
            Assert.Equal(token.Text[5..17], stored.Prefix);
        }
        string secret = token.Text[18..];
        foreach (var file in new[] { fixture.Server.IndexPath, fixture.Server.IndexPath + "-wal" }.Where(File.Exists))
        {
            var bytes = await ReadSharedAsync(file);
            Assert.True(bytes.AsSpan().IndexOf(Encoding.ASCII.GetBytes(secret)) < 0, $"{file} contains the token's secret");
        }
    }

    [Fact]
    public async Task Garbage_unknown_and_wrong_secret_tokens_are_refused()
    {
        using var basic = await NewUserAsync("tok-garbage");
        var token = await ApiTokenClient.CreateAsync(basic, "real");
        var wrongSecret = token.Text[..18] + new string('A', 43);
        var unknownPrefix = "kpat_000000000000_" + token.Text[18..];
        foreach (var text in new[] { "garbage", "kpat_", wrongSecret, unknownPrefix, token.Text + "x", token.Text.ToUpperInvariant() })
        {
            using var bearer = ApiTokenClient.Bearer(fixture, text);
            await AssertRefusedAsync(bearer);
            await AssertRefusedAsync(bearer, "/dicomweb/studies");
        }
        using var ok = ApiTokenClient.Bearer(fixture, token.Text);
        Assert.Equal(HttpStatusCode.OK, await fixture.StatusAsync(ok, "/api/projects"));
    }

    [Fact]
    public async Task An_expired_token_is_refused()
    {
        using var basic = await NewUserAsync("tok-expired");
        var token = await ApiTokenClient.CreateAsync(basic, "short-lived");
        using var bearer = ApiTokenClient.Bearer(fixture, token.Text);
        Assert.Equal(HttpStatusCode.OK, await fixture.StatusAsync(bearer, "/api/projects"));

        await using (var db = ApiTokenClient.OpenWritable(fixture.Server.IndexPath))
        {
            Assert.Equal(1, await db.ApiTokens.Where(t => t.Id == token.Id)
                .ExecuteUpdateAsync(s => s.SetProperty(t => t.ExpiresAt, DateTime.UtcNow.AddMinutes(-1))));
        }
        await AssertRefusedAsync(bearer);
        await AssertRefusedAsync(bearer, "/dicomweb/studies");
        var mine = await basic.GetFromJsonAsync<JsonElement>("/api/tokens");
        Assert.Equal("expired", mine.EnumerateArray().Single(t => t.GetProperty("id").GetInt32() == token.Id).GetProperty("status").GetString());
    }

    [Fact]
    public async Task A_revoked_token_is_refused_on_the_very_next_request()
    {
        using var basic = await NewUserAsync("tok-revoked");
        var token = await ApiTokenClient.CreateAsync(basic, "to revoke");
        var other = await ApiTokenClient.CreateAsync(basic, "stays");
        using var bearer = ApiTokenClient.Bearer(fixture, token.Text);
        using var otherBearer = ApiTokenClient.Bearer(fixture, other.Text);
        // Twice, so the second request is served from the principal cache: the revocation must still count at once.
        Assert.Equal(HttpStatusCode.OK, await fixture.StatusAsync(bearer, "/api/projects"));
        Assert.Equal(HttpStatusCode.OK, await fixture.StatusAsync(bearer, "/dicomweb/studies"));

        Assert.Equal(HttpStatusCode.NoContent, (await basic.DeleteAsync($"/api/tokens/{token.Id}")).StatusCode);
        await AssertRefusedAsync(bearer);
        await AssertRefusedAsync(bearer, "/dicomweb/studies");
        Assert.Equal(HttpStatusCode.OK, await fixture.StatusAsync(otherBearer, "/api/projects"));

        // Someone else's token looks exactly like a missing one.
        using var stranger = await NewUserAsync("tok-stranger");
        Assert.Equal(HttpStatusCode.NotFound, (await stranger.DeleteAsync($"/api/tokens/{other.Id}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await stranger.DeleteAsync("/api/tokens/999999")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, await fixture.StatusAsync(otherBearer, "/api/projects"));
    }

    [Fact]
    public async Task Tokens_of_a_locked_out_or_deleted_owner_are_refused()
    {
        using var lockedBasic = await NewUserAsync("tok-locked");
        var lockedToken = await ApiTokenClient.CreateAsync(lockedBasic, "locked");
        using var lockedBearer = ApiTokenClient.Bearer(fixture, lockedToken.Text);
        Assert.Equal(HttpStatusCode.OK, await fixture.StatusAsync(lockedBearer, "/api/projects"));
        using (var wrong = fixture.As("tok-locked", "not-the-password"))
        {
            for (int i = 0; i < AuthServerFixture.MaxFailedAccessAttempts; i++)
                Assert.Equal(HttpStatusCode.Unauthorized, await fixture.StatusAsync(wrong, "/api/projects"));
        }
        await AssertRefusedAsync(lockedBearer);

        using var deletedBasic = await NewUserAsync("tok-deleted");
        var deletedToken = await ApiTokenClient.CreateAsync(deletedBasic, "deleted");
        using var deletedBearer = ApiTokenClient.Bearer(fixture, deletedToken.Text);
        Assert.Equal(HttpStatusCode.OK, await fixture.StatusAsync(deletedBearer, "/api/projects"));
        var id = (await fixture.Accounts.Admin.ListAsync()).Single(u => u.UserName == "tok-deleted").Id;
        var deleted = await fixture.Accounts.Admin.DeleteAsync(id, actingUserId: "test");
        Assert.True(deleted.Succeeded, deleted.Error);
        await AssertRefusedAsync(deletedBearer);
        await using var db = fixture.Server.OpenIndex();
        Assert.False(await db.ApiTokens.AnyAsync(t => t.Id == deletedToken.Id)); // deleted with its owner
    }

    [Fact]
    public async Task A_read_only_token_reads_but_every_write_is_403()
    {
        using var admin = fixture.As(TestCredentials.AdminUser, TestCredentials.AdminPassword);
        Assert.Equal(HttpStatusCode.Created, (await admin.PostAsJsonAsync("/api/projects", new { name = "tok-ro-project" })).StatusCode);
        var token = await ApiTokenClient.CreateAsync(admin, "read only", access: "read");
        var writer = await ApiTokenClient.CreateAsync(admin, "writer", access: "write");
        using var bearer = ApiTokenClient.Bearer(fixture, token.Text);
        using var writeBearer = ApiTokenClient.Bearer(fixture, writer.Text);

        Assert.Equal(HttpStatusCode.OK, await fixture.StatusAsync(bearer, "/api/projects/tok-ro-project/datasets"));
        Assert.Equal(HttpStatusCode.Forbidden, (await bearer.PostAsJsonAsync("/api/projects/tok-ro-project/datasets", new { name = "ro" })).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await bearer.PostAsJsonAsync("/api/projects", new { name = "tok-ro-2" })).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await bearer.DeleteAsync($"/api/admin/tokens/{writer.Id}")).StatusCode);
        using (var stow = new ByteArrayContent([1, 2, 3]))
        {
            stow.Headers.TryAddWithoutValidation("Content-Type", "multipart/related; type=\"application/dicom\"; boundary=x");
            Assert.Equal(HttpStatusCode.Forbidden, (await bearer.PostAsync("/dicomweb/studies", stow)).StatusCode);
        }
        var datasets = await admin.GetFromJsonAsync<JsonElement>("/api/projects/tok-ro-project/datasets");
        Assert.Equal(0, datasets.GetArrayLength());

        Assert.Equal(HttpStatusCode.Created, (await writeBearer.PostAsJsonAsync("/api/projects/tok-ro-project/datasets", new { name = "rw" })).StatusCode);
    }

    [Fact]
    public async Task A_token_cannot_create_tokens_and_creation_checks_its_input()
    {
        using var basic = await NewUserAsync("tok-mint");
        var token = await ApiTokenClient.CreateAsync(basic, "writer", access: "write");
        using var bearer = ApiTokenClient.Bearer(fixture, token.Text);
        using (var minted = await bearer.PostAsJsonAsync("/api/tokens", new { name = "child", expiresInDays = 5, access = "write" }))
            Assert.Equal(HttpStatusCode.Forbidden, minted.StatusCode);
        Assert.Single((await basic.GetFromJsonAsync<JsonElement>("/api/tokens")).EnumerateArray());

        foreach (var bad in new object[]
                 {
                     new { name = "", expiresInDays = 5, access = "read" },
                     new { name = "x", expiresInDays = 0, access = "read" },
                     new { name = "x", expiresInDays = 366, access = "read" },
                     new { name = "x", expiresInDays = 5, access = "admin" },
                     new { name = "x", expiresInDays = 5, access = "read", projectIds = new[] { 987654 } },
                     new { name = "x", expiresInDays = 5, access = "read", projectIds = Array.Empty<int>() },
                 })
        {
            using var response = await basic.PostAsJsonAsync("/api/tokens", bad);
            var body = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{JsonSerializer.Serialize(bad)} -> {(int)response.StatusCode} {body}");
            Assert.Contains("\"title\"", body);
        }
        using (var noExpiry = await basic.PostAsJsonAsync("/api/tokens", new { name = "forever", access = "read" }))
            Assert.Equal(HttpStatusCode.BadRequest, noExpiry.StatusCode);
    }

    [Fact]
    public async Task Admins_list_and_revoke_anyones_tokens_and_others_cannot()
    {
        using var basic = await NewUserAsync("tok-owner");
        var token = await ApiTokenClient.CreateAsync(basic, "owned");
        using var bearer = ApiTokenClient.Bearer(fixture, token.Text);
        Assert.Equal(HttpStatusCode.Forbidden, await fixture.StatusAsync(basic, "/api/admin/tokens"));
        Assert.Equal(HttpStatusCode.Forbidden, (await basic.DeleteAsync($"/api/admin/tokens/{token.Id}")).StatusCode);

        using var admin = fixture.As(TestCredentials.AdminUser, TestCredentials.AdminPassword);
        var all = await admin.GetFromJsonAsync<JsonElement>("/api/admin/tokens");
        var row = all.EnumerateArray().Single(t => t.GetProperty("id").GetInt32() == token.Id);
        Assert.Equal("tok-owner", row.GetProperty("owner").GetString());
        Assert.DoesNotContain(token.Text[18..], all.GetRawText());

        Assert.Equal(HttpStatusCode.NoContent, (await admin.DeleteAsync($"/api/admin/tokens/{token.Id}")).StatusCode);
        await AssertRefusedAsync(bearer);
        Assert.Equal(HttpStatusCode.NotFound, (await admin.DeleteAsync("/api/admin/tokens/999999")).StatusCode);
    }

    [Fact]
    public async Task Created_revoked_and_refused_tokens_are_audited_without_the_token_text_and_never_logged()
    {
        using var basic = await NewUserAsync("tok-audit");
        var token = await ApiTokenClient.CreateAsync(basic, "audited");
        using var bearer = ApiTokenClient.Bearer(fixture, token.Text);
        Assert.Equal(HttpStatusCode.OK, await fixture.StatusAsync(bearer, "/api/projects"));
        Assert.Equal(HttpStatusCode.NoContent, (await basic.DeleteAsync($"/api/tokens/{token.Id}")).StatusCode);
        await AssertRefusedAsync(bearer);

        using var admin = fixture.As(TestCredentials.AdminUser, TestCredentials.AdminPassword);
        var target = $"token:{token.Id}";
        var (created, createdBody) = await AuditTrailPoll.WaitAsync(admin, $"action=token.created&actor=tok-audit", items =>
            items.Any(e => e.GetProperty("target").GetString() == target));
        var (revoked, revokedBody) = await AuditTrailPoll.WaitAsync(admin, $"action=token.revoked&actor=tok-audit", items =>
            items.Any(e => e.GetProperty("target").GetString() == target));
        var (refused, refusedBody) = await AuditTrailPoll.WaitAsync(admin, $"action=token.refused&actor=tok-audit", items =>
            items.Any(e => e.GetProperty("details").GetString()!.Contains("Revoked", StringComparison.Ordinal)));
        Assert.Contains(refused, e => e.GetProperty("outcome").GetString() == "denied" && e.GetProperty("target").GetString() == "/api/projects");

        var secret = token.Text[18..];
        foreach (var body in new[] { createdBody, revokedBody, refusedBody, fixture.Server.Output })
            Assert.DoesNotContain(secret, body);
        var csv = await admin.GetStringAsync("/api/audit/export.csv?action=token.refused");
        Assert.DoesNotContain(secret, csv);
        Assert.DoesNotContain(token.Text, fixture.Server.Output);
    }

    private static async Task<byte[]> ReadSharedAsync(string path)
    {
        await using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        using var copy = new MemoryStream();
        await stream.CopyToAsync(copy);
        return copy.ToArray();
    }
}
