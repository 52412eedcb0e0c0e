using System.Runtime.CompilerServices;

namespace Kaapana.Tests.Archive.Dicom;

internal static class TestEnvironment
{
    /// <summary>
    /// Every server process a test starts inherits this environment. The server listens for DICOM on 11112 on all interfaces
    /// by default; test servers (several at once, in parallel test classes) take a free loopback port instead.
    /// <see cref="KaapanaServer"/> overrides both on its command line with a port it chose.
    /// </summary>
#pragma warning disable CA2255 // a test assembly: the environment must be set before any test starts a server
    [ModuleInitializer]
#pragma warning restore CA2255
    internal static void Initialize()
    {
        Environment.SetEnvironmentVariable("Kaapana__Dicom__Port", "0");
        Environment.SetEnvironmentVariable("Kaapana__Dicom__BindAddress", "127.0.0.1");
    }
}
