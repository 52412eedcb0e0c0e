// StoreScp benchmark: our DICOM store SCP and SCU as separate processes, driven by run.sh against DCMTK and Orthanc.
//
//   StoreScp scp --dir DIR [--port 11112] [--aet KAAPANA] [--bind 127.0.0.1]
//       DicomServer + DicomFolderStoreHandler (files written to DIR, as Kaapana.Dicom/README.md's example does). Prints
//       "ready ENDPOINT" once listening; SIGTERM or SIGINT stops it.
//   StoreScp scu --dir DIR [--host 127.0.0.1] [--port 11112] [--aet STORESCP] [--calling KAAPANA]
//       DicomClient.StoreFilesAsync of every *.dcm under DIR (sorted) over one association. Prints one line:
//       "scu files=N ok=N bytes=B seconds=S" (S: StoreFilesAsync alone, the process start and JIT not included).
using System.Diagnostics;
using System.Runtime.InteropServices;
using Kaapana.Dicom.Network;
using Microsoft.Extensions.DependencyInjection;

var mode = args.Length > 0 ? args[0] : "";
string Opt(string name, string fallback)
{
    int i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length ? args[i + 1] : fallback;
}

switch (mode)
{
    case "scp":
    {
        var dir = Opt("--dir", "");
        if (dir.Length == 0) return Usage();
        var services = new ServiceCollection().AddSingleton<IStoreHandler>(new DicomFolderStoreHandler(dir)).BuildServiceProvider();
        var options = new DicomServerOptions
        {
            BindAddress = Opt("--bind", "127.0.0.1"),
            Port = int.Parse(Opt("--port", "11112")),
            AETitles = [Opt("--aet", "KAAPANA")],
        };
        await using var server = new DicomServer(options, services);
        await server.StartAsync();
        Console.WriteLine($"ready {server.LocalEndPoint}");
        var stop = new TaskCompletionSource();
        using var term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => { c.Cancel = true; stop.TrySetResult(); });
        using var intr = PosixSignalRegistration.Create(PosixSignal.SIGINT, c => { c.Cancel = true; stop.TrySetResult(); });
        await stop.Task;
        await server.StopAsync();
        return 0;
    }
    case "scu":
    {
        var dir = Opt("--dir", "");
        if (dir.Length == 0) return Usage();
        var files = Directory.EnumerateFiles(dir, "*.dcm", SearchOption.AllDirectories).Order(StringComparer.Ordinal).ToList();
        long bytes = files.Sum(f => new FileInfo(f).Length);
        var client = new DicomClient(new DicomClientOptions
        {
            Host = Opt("--host", "127.0.0.1"),
            Port = int.Parse(Opt("--port", "11112")),
            CalledAE = Opt("--aet", "STORESCP"),
            CallingAE = Opt("--calling", "KAAPANA"),
        });
        var clock = Stopwatch.StartNew();
        var results = await client.StoreFilesAsync(files);
        clock.Stop();
        int ok = results.Count(r => r.Succeeded);
        Console.WriteLine($"scu files={files.Count} ok={ok} bytes={bytes} seconds={clock.Elapsed.TotalSeconds:F3}");
        foreach (var r in results.Where(r => !r.Succeeded).Take(3))
            Console.Error.WriteLine($"failed: {r.Path}: {r.Status} {r.Error?.Message}");
        return ok == files.Count ? 0 : 1;
    }
    default:
        return Usage();
}

static int Usage()
{
    Console.Error.WriteLine("usage: StoreScp scp --dir DIR [--port P] [--aet AE] [--bind ADDR] | scu --dir DIR [--host H] [--port P] [--aet AE]");
    return 2;
}

