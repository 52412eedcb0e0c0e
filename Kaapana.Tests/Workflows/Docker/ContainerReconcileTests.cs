using Docker.DotNet;
using Docker.DotNet.Models;
using Kaapana.Core.Workflows.Docker;

namespace Kaapana.Tests.Workflows.Docker;

/// <summary>After a crash the server removes the containers it left behind, and only those.</summary>
[Collection(DockerCollection.Name)]
public sealed class ContainerReconcileTests(DockerTestEngine engine)
{
    [Fact]
    public async Task Reconcile_removes_this_instances_orphans_and_keeps_live_items_and_other_instances_containers()
    {
        var instance = "kaapana-test-reconcile-" + Guid.NewGuid().ToString("N")[..8];
        var otherInstance = instance + "-other";
        using var runner = engine.NewRunner(o => o.InstanceId = instance);
        var started = new List<string>();
        try
        {
            // As a crashed server would have left them: running, with our labels.
            var orphan = await StartHangingAsync(instance, "orphan-item", started);
            var exitedOrphan = await StartHangingAsync(instance, "exited-orphan-item", started);
            await engine.Client.Containers.KillContainerAsync(exitedOrphan, new ContainerKillParameters { Signal = "KILL" });
            var live = await StartHangingAsync(instance, "live-item", started);
            var foreign = await StartHangingAsync(otherInstance, "orphan-item", started);

            var removed = await runner.ReconcileAsync(new HashSet<string> { "live-item" });

            Assert.Equal(new[] { exitedOrphan, orphan }.Order(), removed.Select(c => c.ContainerId).Order());
            Assert.All(removed, c => Assert.Equal("crashed-run", c.RunId));
            await Assert.ThrowsAsync<DockerContainerNotFoundException>(() => engine.Client.Containers.InspectContainerAsync(orphan));
            await Assert.ThrowsAsync<DockerContainerNotFoundException>(() => engine.Client.Containers.InspectContainerAsync(exitedOrphan));
            Assert.True((await engine.Client.Containers.InspectContainerAsync(live)).State.Running);
            Assert.True((await engine.Client.Containers.InspectContainerAsync(foreign)).State.Running);
            var remaining = Assert.Single(await runner.ListContainersAsync());
            Assert.Equal((live, "live-item", "running"), (remaining.ContainerId, remaining.ItemId, remaining.State));
        }
        finally
        {
            foreach (var id in started)
            {
                try
                {
                    await engine.Client.Containers.RemoveContainerAsync(id, new ContainerRemoveParameters { Force = true });
                }
                catch (DockerContainerNotFoundException)
                {
                }
            }
        }
    }

    private async Task<string> StartHangingAsync(string instance, string item, List<string> started)
    {
        var created = await engine.Client.Containers.CreateContainerAsync(new CreateContainerParameters
        {
            Image = DockerTestEngine.Image("hang"),
            Labels = new Dictionary<string, string>
            {
                [ContainerLabels.Run] = "crashed-run",
                [ContainerLabels.Item] = item,
                [ContainerLabels.Instance] = instance,
            },
            HostConfig = new HostConfig { NetworkMode = "none" },
        });
        started.Add(created.ID);
        await engine.Client.Containers.StartContainerAsync(created.ID, new ContainerStartParameters());
        return created.ID;
    }
}
