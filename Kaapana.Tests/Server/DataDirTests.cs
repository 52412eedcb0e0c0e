namespace Kaapana.Tests.Server;

public sealed class DataDirTests
{
    [Fact]
    public async Task Relative_data_dir_is_resolved_against_the_working_directory_and_created()
    {
        await using var server = await ServerProcess.StartAsync(relativeDataDir: Path.Combine("nested", "data"));

        Assert.True(File.Exists(Path.Combine(server.DataDir, "kaapana.db")), $"No kaapana.db in {server.DataDir}.{Environment.NewLine}{server.Output}");
        Assert.True(File.Exists(Path.Combine(server.DataDir, "jobs.db")), $"No jobs.db in {server.DataDir}.");
    }
}
