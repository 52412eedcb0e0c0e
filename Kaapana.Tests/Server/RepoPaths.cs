namespace Kaapana.Tests.Server;

/// <summary>Locations the server tests need, found from the test assembly's output folder.</summary>
internal static class RepoPaths
{
    /// <summary>The built server. Kaapana.Tests references Kaapana.Server, so the build copies it next to the tests.</summary>
    public static string ServerDll
    {
        get
        {
            var path = Path.Combine(AppContext.BaseDirectory, "Kaapana.Server.dll");
            Assert.True(File.Exists(path), $"Built server not found at {path}; build Kaapana.sln first.");
            Assert.True(File.Exists(Path.ChangeExtension(path, ".runtimeconfig.json")), $"{path} has no runtimeconfig.json beside it.");
            return path;
        }
    }

    /// <summary>The folder holding Kaapana.sln, searched upwards from the test output.</summary>
    public static string RepoRoot
    {
        get
        {
            for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            {
                if (File.Exists(Path.Combine(dir.FullName, "Kaapana.sln")))
                {
                    return dir.FullName;
                }
            }

            Assert.Fail($"No Kaapana.sln above {AppContext.BaseDirectory}.");
            return null!;
        }
    }

    /// <summary>The dotnet host running the tests, so the server runs on the same runtime.</summary>
    public static string DotnetHost
    {
        get
        {
            var current = Environment.ProcessPath;
            if (current is not null && Path.GetFileNameWithoutExtension(current) == "dotnet")
            {
                return current;
            }

            return Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet";
        }
    }

    /// <summary>Full path of an executable on PATH, or null.</summary>
    public static string? FindOnPath(string name) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "")
            .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Select(dir => Path.Combine(dir, name))
            .FirstOrDefault(File.Exists);
}
