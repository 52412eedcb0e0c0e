using System.Diagnostics;

namespace Kaapana.Tests.Server;

/// <summary>docker-compose.yml must parse with Debian's docker-compose (v1) and describe the deployment.</summary>
public sealed class DockerComposeTests
{
    [Fact]
    public async Task Compose_file_parses_and_names_service_ports_volume_and_docker_socket()
    {
        var config = await RunComposeAsync("config");
        Assert.Contains("8080", config);
        Assert.Contains("11112", config);
        Assert.Contains("kaapana-data:/data", config);
        Assert.Contains("/var/run/docker.sock:/var/run/docker.sock", config);
        Assert.Contains("Kaapana__DataDir: /data", config);
        Assert.Contains("ASPNETCORE_URLS: http://0.0.0.0:8080", config);
        // Sibling algorithm containers get host paths for their mounts.
        Assert.Contains("Kaapana__Docker__HostPathMappings__0__ServerPath: /data", config);
        Assert.Contains("Kaapana__Docker__HostPathMappings__0__HostPath: /var/lib/docker/volumes/kaapana-data/_data", config);

        Assert.Equal(["kaapana"], Lines(await RunComposeAsync("config", "--services")));
        Assert.Equal(["kaapana-data"], Lines(await RunComposeAsync("config", "--volumes")));
    }

    private static string[] Lines(string text) => text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    private static async Task<string> RunComposeAsync(params string[] args)
    {
        var compose = RepoPaths.FindOnPath("docker-compose");
        Assert.True(compose is not null, "docker-compose not found on PATH: install the Debian package docker-compose (scripts/test.sh does).");

        var repo = RepoPaths.RepoRoot;
        var startInfo = new ProcessStartInfo(compose)
        {
            WorkingDirectory = repo,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        startInfo.ArgumentList.Add("--file");
        startInfo.ArgumentList.Add(Path.Combine(repo, "docker-compose.yml"));
        foreach (var arg in args)
        {
            startInfo.ArgumentList.Add(arg);
        }

        // A developer's own value would change the parsed output; the test wants the file's default.
        startInfo.Environment.Remove("DOCKER_GID");

        using var process = Process.Start(startInfo)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(1));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }

        Assert.True(process.ExitCode == 0, $"docker-compose {string.Join(' ', args)} exited {process.ExitCode}: {await stderr}");
        return await stdout;
    }
}
