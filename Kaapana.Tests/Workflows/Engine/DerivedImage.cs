using System.Diagnostics;
using Kaapana.Tests.Archive;
using Kaapana.Tests.Workflows.Docker;

namespace Kaapana.Tests.Workflows.Engine;

/// <summary>
/// A test algorithm image that writes DICOM: built FROM kaapana/busybox with prepared files baked in (two instances of a
/// derived series in the input's study, a metrics.json, a notes.txt), which it copies to /output, optionally after a sleep.
/// </summary>
public static class DerivedImage
{
    /// <summary>Builds FROM kaapana/busybox an image that copies its baked-in payload to /output.</summary>
    public static async Task<string> BuildAsync(DockerTestEngine docker, string studyUid, string seriesUid, int sleepSeconds = 0)
    {
        var dir = Directory.CreateTempSubdirectory("kaapana-derived-image-").FullName;
        try
        {
            var payload = Directory.CreateDirectory(Path.Combine(dir, "payload")).FullName;
            for (int i = 1; i <= 2; i++)
                await File.WriteAllBytesAsync(Path.Combine(payload, $"derived-{i}.dcm"), TestInstances.Create(new TestInstances.Spec(
                    "DERIVED", "Derived^Test", studyUid, seriesUid, TestInstances.NewUid(), InstanceNumber: i, SeriesNumber: 99, SeriesDescription: "derived")));
            await File.WriteAllTextAsync(Path.Combine(payload, "metrics.json"), """{"voxels":1234,"volumeMl":5.5,"label":"a, b"}""");
            await File.WriteAllTextAsync(Path.Combine(payload, "notes.txt"), "a file artifact\n");
            await File.WriteAllTextAsync(Path.Combine(dir, "Dockerfile"), $$"""
                FROM kaapana/busybox:latest
                COPY payload /payload
                ENTRYPOINT ["/bin/sh", "-c", "sleep {{sleepSeconds}}; cp /payload/* /output/ && echo copied $(ls /payload | wc -l) files && cat /input/params.json"]
                """);
            var tag = "kaapana-test-engine/copy-derived:" + Guid.NewGuid().ToString("N")[..12];
            await DockerCliAsync(docker, "build", "-q", "-t", tag, dir);
            return tag;
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    public static Task RemoveAsync(DockerTestEngine docker, string image) => DockerCliAsync(docker, "rmi", "-f", image);

    private static async Task DockerCliAsync(DockerTestEngine docker, params string[] args)
    {
        var psi = new ProcessStartInfo("/usr/bin/docker") { RedirectStandardOutput = true, RedirectStandardError = true };
        psi.ArgumentList.Add("-H");
        psi.ArgumentList.Add(docker.Endpoint);
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var stderr = p.StandardError.ReadToEndAsync();
        var stdout = p.StandardOutput.ReadToEndAsync();
        await p.WaitForExitAsync();
        Assert.True(p.ExitCode == 0, $"docker {string.Join(' ', args)} failed ({p.ExitCode}): {await stderr}{await stdout}");
    }
}
