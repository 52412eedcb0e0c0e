using System.Runtime.InteropServices;

namespace Kaapana.Dicom.Imaging.Codecs;

/// <summary>
/// Loads an optional native codec library on first use. When it is missing, every use raises a
/// <see cref="DicomCodecException"/> that names the Debian package to install; nothing crashes and nothing is retried.
/// </summary>
internal sealed class NativeLibraryHandle
{
    private readonly string[] _names;
    private readonly string _package;
    private readonly Lazy<IntPtr> _handle;

    public NativeLibraryHandle(string package, params string[] names)
    {
        _names = names;
        _package = package;
        _handle = new Lazy<IntPtr>(Load, LazyThreadSafetyMode.ExecutionAndPublication);
    }

    public string Package => _package;

    private IntPtr Load()
    {
        foreach (var name in _names)
            if (NativeLibrary.TryLoad(name, out var h)) return h;
        return IntPtr.Zero;
    }

    public bool IsAvailable => _handle.Value != IntPtr.Zero;

    public IntPtr Export(string symbol)
    {
        var h = _handle.Value;
        if (h == IntPtr.Zero)
            throw new DicomCodecException($"The native library {_names[0]} is not installed: install the Debian package {_package} (apt-get install {_package}).");
        if (!NativeLibrary.TryGetExport(h, symbol, out var p))
            throw new DicomCodecException($"The native library {_names[0]} lacks {symbol}: install a current version of the Debian package {_package}.");
        return p;
    }
}
