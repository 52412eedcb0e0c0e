using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Kaapana.Core.Archive.Index;
using Kaapana.Tests.Auth;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;

namespace Kaapana.Tests.Access.Tokens;

/// <summary>A token as the create call returned it: its id and the text (the only time the server shows it).</summary>
public sealed record IssuedToken(int Id, string Text);

/// <summary>Creates tokens through <c>POST /api/tokens</c>, makes Bearer clients, and changes token rows in the server's index.</summary>
public static class ApiTokenClient
{
    public static async Task<IssuedToken> CreateAsync(HttpClient signedIn, string name, string access = "write", int days = 30, int[]? projectIds = null)
    {
        using var response = await signedIn.PostAsJsonAsync("/api/tokens", new { name, expiresInDays = days, access, projectIds });
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Created, $"POST /api/tokens: {(int)response.StatusCode} {body}");
        var json = JsonDocument.Parse(body).RootElement;
        return new IssuedToken(json.GetProperty("token").GetProperty("id").GetInt32(), json.GetProperty("secret").GetString()!);
    }

    public static HttpClient Bearer(AuthServerFixture fixture, string token)
    {
        var http = fixture.Anonymous();
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return http;
    }

    /// <summary>A writable context on the running server's index (SQLite WAL), for changes no API offers (a past expiry).</summary>
    public static KaapanaDbContext OpenWritable(string indexPath) =>
        new(new DbContextOptionsBuilder<KaapanaDbContext>()
            .UseSqlite(new SqliteConnectionStringBuilder { DataSource = indexPath, Pooling = false }.ToString()).Options);
}
