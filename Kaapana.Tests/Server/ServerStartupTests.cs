using System.Net;
using System.Text.Json;
using Microsoft.Data.Sqlite;

namespace Kaapana.Tests.Server;

/// <summary>Starts the built server as a real process and checks what a fresh start must leave behind.</summary>
public sealed class ServerStartupTests(ServerFixture fixture) : IClassFixture<ServerFixture>
{
    private ServerProcess Server => fixture.Server;

    [Fact]
    public async Task Healthz_answers_200_with_json_status_and_version()
    {
        using var response = await Server.Http.GetAsync("/healthz");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);

        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var root = json.RootElement;
        Assert.Equal("Healthy", root.GetProperty("status").GetString());
        Assert.False(string.IsNullOrWhiteSpace(root.GetProperty("version").GetString()));
        Assert.Equal("Healthy", root.GetProperty("checks").GetProperty("index").GetProperty("status").GetString());
    }

    [Fact]
    public async Task Index_database_is_created_migrated_and_in_wal_mode()
    {
        var path = Path.Combine(Server.DataDir, "kaapana.db");
        Assert.True(File.Exists(path), $"{path} missing.{Environment.NewLine}{Server.Output}");

        // Pooling off so no handle outlives the test and blocks the temp folder's removal.
        await using var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Pooling = false }.ToString());
        await connection.OpenAsync();

        var tables = await QueryStringsAsync(connection, "SELECT name FROM sqlite_master WHERE type = 'table'");
        Assert.Contains("__EFMigrationsHistory", tables);
        Assert.Contains("Projects", tables);

        var migrations = await QueryStringsAsync(connection, "SELECT MigrationId FROM __EFMigrationsHistory");
        Assert.Contains(migrations, id => id.EndsWith("_InitialCreate", StringComparison.Ordinal));

        Assert.Equal(["wal"], await QueryStringsAsync(connection, "PRAGMA journal_mode"));
    }

    [Fact]
    public void Log_file_is_written_under_data_dir_logs()
    {
        var logs = Path.Combine(Server.DataDir, "logs");
        var files = Directory.Exists(logs) ? Directory.GetFiles(logs, "kaapana-*.log") : [];
        var file = Assert.Single(files);

        // Serilog keeps the file open; share it rather than fight for it.
        using var stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        var text = new StreamReader(stream).ReadToEnd();
        Assert.Contains("Now listening on", text);
        // appsettings.json (EF Core at Warning) is read although the server ran outside its output folder.
        Assert.DoesNotContain("Executed DbCommand", text);
    }

    [Fact]
    public async Task Jobs_dashboard_answers_200_from_loopback()
    {
        using var response = await Server.Http.GetAsync("/jobs");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains("Kaapana jobs", await response.Content.ReadAsStringAsync());
        Assert.True(File.Exists(Path.Combine(Server.DataDir, "jobs.db")), "Hangfire store jobs.db missing.");
    }

    private static async Task<List<string>> QueryStringsAsync(SqliteConnection connection, string sql)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        await using var reader = await command.ExecuteReaderAsync();
        var values = new List<string>();
        while (await reader.ReadAsync())
        {
            values.Add(reader.GetString(0));
        }

        return values;
    }
}
