using System.Reflection;
using System.Runtime.InteropServices;

namespace PluginHost.Plugins.Kafka;

/// <summary>
/// Makes the sink's own librdkafka imports (<see cref="NativeProducer"/>, the tests' mock cluster) load exactly the file
/// Confluent.Kafka loaded. The <c>librdkafka.redist</c> package ships three Linux x64 builds; Confluent.Kafka imports
/// <c>librdkafka</c> and, when that fails to load, <c>centos8-librdkafka</c> (on Alpine only <c>alpine-librdkafka</c>).
/// On Debian 12 the main build fails (it needs <c>libsasl2.so.3</c>) and the CentOS 8 build, without GSSAPI, runs; a
/// plain <c>[DllImport("librdkafka")]</c> would then throw <see cref="DllNotFoundException"/>. <c>PLUGINHOST_LIBRDKAFKA</c>
/// (a path) overrides the choice for both.
/// </summary>
public static class KafkaNative
{
    /// <summary>Environment variable naming the librdkafka file to load (overrides the package's builds).</summary>
    public const string PathVariable = "PLUGINHOST_LIBRDKAFKA";

    private static readonly object Gate = new();
    private static bool _registered;
    private static IntPtr _handle;
    private static string? _loadedFrom;

    /// <summary>Which build was loaded (<c>librdkafka</c>, <c>centos8-librdkafka</c>, … or the configured path), once known.</summary>
    public static string? LoadedFrom => _loadedFrom;

    /// <summary>Registers the resolvers once for this copy of the plugin. Call before creating any client.</summary>
    public static void EnsureResolver()
    {
        lock (Gate)
        {
            if (_registered) return;
            _registered = true;
            foreach (var assembly in new[] { typeof(Confluent.Kafka.Library).Assembly, typeof(KafkaNative).Assembly })
            {
                try
                {
                    NativeLibrary.SetDllImportResolver(assembly, Resolve);
                }
                catch (InvalidOperationException)
                {
                    // Someone (the host's plugin loader, a test) already set one for this assembly: theirs wins.
                }
            }
            // A configured path reaches Confluent.Kafka through the resolver above, not Library.Load(path): that one
            // imports "libdl", which glibc 2.34+ (Debian 12) no longer provides under that name.
        }
    }

    /// <summary>The handle of the librdkafka Confluent.Kafka uses (loading it first).</summary>
    /// <exception cref="DllNotFoundException">No build loads on this machine.</exception>
    public static IntPtr Handle()
    {
        EnsureResolver();
        lock (Gate)
        {
            if (_handle != IntPtr.Zero) return _handle;
            Confluent.Kafka.Library.Load(); // Confluent's own fallback: our choice below repeats it, so both agree
            var confluent = typeof(Confluent.Kafka.Library).Assembly;
            if (Configured() is { } path)
                return Remember(NativeLibrary.Load(path), path);
            foreach (var name in ConfluentOrder())
                if (TryLoad(name, confluent, out var handle)) return Remember(handle, name);
            throw new DllNotFoundException($"none of {string.Join(", ", ConfluentOrder())} loads, though Confluent.Kafka loaded one");
        }
    }

    /// <summary>The error to show when the library cannot be found.</summary>
    public static string NotFoundMessage(DllNotFoundException e) =>
        $"the native Kafka library librdkafka was not found or does not load ({e.Message}); the plugin folder needs the " +
        $"librdkafka.redist build for this platform (see docs/kafka.md, \"The native library\"), or set {PathVariable} to a librdkafka file";

    /// <summary>The names Confluent.Kafka 2.x imports, in the order it tries them on this system.</summary>
    internal static IReadOnlyList<string> ConfluentOrder() =>
        !OperatingSystem.IsLinux() ? ["librdkafka"]
        : IsAlpine() ? ["alpine-librdkafka"]
        : ["librdkafka", "centos8-librdkafka"];

    private static IntPtr Remember(IntPtr handle, string from)
    {
        _loadedFrom = from;
        return _handle = handle;
    }

    private static IntPtr Resolve(string name, Assembly assembly, DllImportSearchPath? searchPath)
    {
        if (!name.Contains("librdkafka", StringComparison.Ordinal)) return IntPtr.Zero;
        if (Configured() is { } path)
        {
            _loadedFrom = path;
            return NativeLibrary.Load(path);
        }
        // Confluent.Kafka's own imports take the runtime's probing; ours follow the file it loaded.
        return assembly == typeof(KafkaNative).Assembly ? Handle() : IntPtr.Zero;
    }

    private static bool TryLoad(string name, Assembly assembly, out IntPtr handle)
    {
        try
        {
            return NativeLibrary.TryLoad(name, assembly, null, out handle);
        }
        catch (DllNotFoundException)
        {
            // a plugin load context resolved the name to a file that does not load (a missing dependency)
            handle = IntPtr.Zero;
            return false;
        }
    }

    private static string? Configured() => Environment.GetEnvironmentVariable(PathVariable) is { Length: > 0 } p ? p : null;

    private static bool IsAlpine()
    {
        try
        {
            return File.ReadLines("/etc/os-release").Any(l => l.Trim() is "ID=alpine" or "ID=\"alpine\"");
        }
        catch (IOException)
        {
            return false;
        }
    }
}
