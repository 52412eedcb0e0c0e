using Docker.DotNet;
using Kaapana.Core.Workflows.Docker;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Kaapana.Tests.Workflows.Docker;

/// <summary>
/// The Docker tests run one at a time and after the other tests (they measure memory and start containers), against
/// the private daemon scripts/start-dockerd.sh starts.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class DockerCollection : ICollectionFixture<DockerTestEngine>
{
    public const string Name = "Docker engine";
}

/// <summary>
/// The real Docker daemon the tests use (endpoint in KAAPANA_TEST_DOCKER_HOST) and the test images algorithms/build-images.sh
/// builds. Missing either is a failure that says how to get it, never a skip.
/// </summary>
public sealed class DockerTestEngine : IAsyncLifetime
{
    public const string EndpointVariable = "KAAPANA_TEST_DOCKER_HOST";

    public static readonly string[] TestImages = ["succeed", "fail", "hang", "garbage", "flood", "trivial"];

    public string Endpoint { get; } = Environment.GetEnvironmentVariable(EndpointVariable) ?? "";

    /// <summary>A client of our own, to check what the runner did independently of it.</summary>
    public DockerClient Client { get; private set; } = null!;

    public static string Image(string name) => $"kaapana-test/{name}:latest";

    public async Task InitializeAsync()
    {
        if (string.IsNullOrWhiteSpace(Endpoint))
        {
            throw new InvalidOperationException(
                $"{EndpointVariable} is not set: run scripts/test.sh, or `export {EndpointVariable}=$(scripts/start-dockerd.sh)` and algorithms/build-images.sh before dotnet test.");
        }
        using var runner = NewRunner();
        var status = await runner.PingAsync();
        if (!status.Available)
        {
            throw new InvalidOperationException(
                $"The Docker daemon at {Endpoint} ({EndpointVariable}) does not answer ({status.Error}): start it with scripts/start-dockerd.sh (scripts/test.sh does).");
        }
        foreach (var name in TestImages)
        {
            if (await runner.InspectImageAsync(Image(name)) is null)
            {
                throw new InvalidOperationException(
                    $"Test image {Image(name)} is missing on {Endpoint}: build it with algorithms/build-images.sh {Endpoint} (scripts/test.sh does).");
            }
        }
        Client = new DockerClientConfiguration(new Uri(Endpoint)).CreateClient();
    }

    public Task DisposeAsync()
    {
        Client?.Dispose();
        return Task.CompletedTask;
    }

    /// <summary>A runner on the test daemon with its own instance id, so reconciling never touches another test's containers.</summary>
    public DockerContainerRunner NewRunner(Action<DockerOptions>? configure = null)
    {
        var options = new DockerOptions { Endpoint = Endpoint, InstanceId = "kaapana-test-" + Guid.NewGuid().ToString("N") };
        configure?.Invoke(options);
        return new DockerContainerRunner(Options.Create(options), NullLogger<DockerContainerRunner>.Instance);
    }
}

/// <summary>A temporary input and output folder for one container run; deleted on dispose.</summary>
public sealed class WorkFolder : IDisposable
{
    public WorkFolder()
    {
        Root = Path.Combine(Path.GetTempPath(), "kaapana-docker-test-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Input);
    }

    public string Root { get; }

    public string Input => Path.Combine(Root, "input");

    public string Output => Path.Combine(Root, "output");

    public ContainerRunSpec Spec(string image, string? itemId = null) =>
        new(image, "run-" + Guid.NewGuid().ToString("N")[..8], itemId ?? "item-" + Guid.NewGuid().ToString("N")[..8], Input, Output);

    public void Dispose()
    {
        if (Directory.Exists(Root))
        {
            Directory.Delete(Root, recursive: true);
        }
    }
}
