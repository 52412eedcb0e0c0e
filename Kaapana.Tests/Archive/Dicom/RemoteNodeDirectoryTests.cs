using Kaapana.Core.Archive.Dicom;
using Kaapana.Core.Archive.Index;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Kaapana.Tests.Archive.Dicom;

/// <summary>The remote node directory over a real index: configuration first and read-only, the index's nodes after, one set of rules.</summary>
public sealed class RemoteNodeDirectoryTests
{
    private static RemoteNodeDirectory Directory(ArchiveTestHost host, params RemoteNodeOptions[] configured) =>
        new(host.Services.GetRequiredService<IDbContextFactory<KaapanaDbContext>>(), Options.Create(new DicomReceiverOptions { RemoteNodes = [.. configured] }));

    [Fact]
    public async Task Merges_configuration_and_index_configuration_wins_and_is_read_only()
    {
        await using var host = await ArchiveTestHost.StartAsync();
        var nodes = Directory(host, new RemoteNodeOptions { AETitle = " PACS ", Host = "10.0.0.5", Port = 104 });

        var ws = await nodes.AddAsync(new RemoteNodeInput("WS1", "ws1.example", 11112, "workstation"));
        Assert.Equal(new RemoteNodeEntry(ws.Id, "WS1", "ws1.example", 11112, "workstation"), ws);
        var all = await nodes.ListAsync();
        Assert.Equal([("PACS", true), ("WS1", false)], all.Select(n => (n.AETitle, n.FromConfiguration)));
        Assert.Equal("10.0.0.5", (await nodes.FindAsync("PACS  "))!.Host);
        Assert.Equal(11112, (await nodes.FindAsync("WS1"))!.Port);
        Assert.Null(await nodes.FindAsync("ws1")); // AE titles are case-sensitive

        // A configured AE title cannot be added or taken over from the index.
        await Assert.ThrowsAsync<RemoteNodeValidationException>(() => nodes.AddAsync(new RemoteNodeInput("PACS", "other", 104)));
        await Assert.ThrowsAsync<RemoteNodeValidationException>(() => nodes.UpdateAsync(ws.Id!.Value, new RemoteNodeInput("PACS", "other", 104)));
        await Assert.ThrowsAsync<RemoteNodeValidationException>(() => nodes.AddAsync(new RemoteNodeInput("WS1", "dup", 104)));

        // A row that a later configuration shadows is hidden, and the configured node is what lookups find.
        var shadowing = Directory(host, new RemoteNodeOptions { AETitle = "WS1", Host = "configured", Port = 1 });
        Assert.Equal([("WS1", true)], (await shadowing.ListAsync()).Select(n => (n.AETitle, n.FromConfiguration)));
        Assert.Equal("configured", (await shadowing.FindAsync("WS1"))!.Host);

        var updated = await nodes.UpdateAsync(ws.Id!.Value, new RemoteNodeInput(" WS2 ", " ws2.example ", 4242, " "));
        Assert.Equal(new RemoteNodeEntry(ws.Id, "WS2", "ws2.example", 4242, null), updated);
        Assert.Null(await nodes.FindAsync("WS1"));
        Assert.Null(await nodes.UpdateAsync(9999, new RemoteNodeInput("X", "h", 1)));
        Assert.True(await nodes.DeleteAsync(ws.Id.Value));
        Assert.False(await nodes.DeleteAsync(ws.Id.Value));
        Assert.Equal(["PACS"], (await nodes.ListAsync()).Select(n => n.AETitle));
    }

    [Theory]
    [InlineData("", "h", 104, "An AE title is required.")]
    [InlineData("SEVENTEEN_CHARS_X", "h", 104, "longer than 16")]
    [InlineData("A\\B", "h", 104, "backslash")]
    [InlineData("A\tB", "h", 104, "printable ASCII")]
    [InlineData("OK", " ", 104, "host name or IP address is required")]
    [InlineData("OK", "a b", 104, "is not a host name")]
    [InlineData("OK", "h", 0, "outside 1–65535")]
    [InlineData("OK", "h", 65536, "outside 1–65535")]
    public void Rejects_bad_input_with_a_reason(string ae, string host, int port, string reason) =>
        Assert.Contains(reason, RemoteNodeDirectory.Validate(new RemoteNodeInput(ae, host, port)));

    [Fact]
    public void Accepts_a_sixteen_character_ae_title_with_spaces_inside()
    {
        Assert.Null(RemoteNodeDirectory.Validate(new RemoteNodeInput("SIXTEEN CHARS 16", "192.168.1.10", 104)));
        Assert.Null(RemoteNodeDirectory.Validate(new RemoteNodeInput("pacs-1", "pacs.hospital.example", 11112)));
    }
}
