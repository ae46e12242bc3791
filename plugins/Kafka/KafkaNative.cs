using System.Reflection;
using System.Runtime.InteropServices;

namespace PluginHost.Plugins.Kafka;

/// <summary>
/// Finds the native librdkafka for Confluent.Kafka and for the sink's own producer. Both import <c>librdkafka</c>, which the runtime
/// looks for as <c>librdkafka.so</c> — a name only the -dev package (or the librdkafka.redist NuGet package) provides.
/// We register a resolver on Confluent.Kafka's assembly that tries, in order: <c>PLUGINHOST_LIBRDKAFKA</c> (a path),
/// the normal probing (a <c>librdkafka.so</c> beside the plugin, in its <c>runtimes/</c> folder or on the library path),
/// then the run-time library names packages install (<c>librdkafka.so.1</c>, <c>librdkafka.1.dylib</c>).
/// </summary>
public static class KafkaNative
{
    /// <summary>Environment variable naming the librdkafka file to load (overrides the search).</summary>
    public const string PathVariable = "PLUGINHOST_LIBRDKAFKA";

    private static readonly object Gate = new();
    private static bool _registered;
    private static string? _loadedFrom;

    /// <summary>Where librdkafka was loaded from (after the first client was created), for logs.</summary>
    public static string? LoadedFrom => _loadedFrom;

    /// <summary>Registers the resolver once for this copy of Confluent.Kafka. Call before creating any client.</summary>
    public static void EnsureResolver()
    {
        lock (Gate)
        {
            if (_registered) return;
            _registered = true;
            // Confluent.Kafka's imports, and ours (the sink's producer calls librdkafka directly).
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
        }
    }

    /// <summary>The error to show when the library cannot be found.</summary>
    public static string NotFoundMessage(DllNotFoundException e) =>
        $"the native Kafka library librdkafka was not found ({e.Message}); install it (Debian/Ubuntu: apt-get install librdkafka1; " +
        $"macOS: brew install librdkafka), put librdkafka.so beside the plugin, or set {PathVariable} to its path";

    private static IntPtr Resolve(string name, Assembly assembly, DllImportSearchPath? searchPath)
    {
        if (!name.StartsWith("librdkafka", StringComparison.Ordinal)) return IntPtr.Zero;
        foreach (var candidate in Candidates(name))
        {
            if (candidate is { } path ? NativeLibrary.TryLoad(path, out var handle) : NativeLibrary.TryLoad(name, assembly, searchPath, out handle))
            {
                _loadedFrom ??= candidate ?? name;
                return handle;
            }
        }
        return IntPtr.Zero; // let the runtime fail with its own DllNotFoundException listing what it tried
    }

    /// <summary>Paths to try; null stands for the runtime's normal probing of <paramref name="name"/>.</summary>
    private static IEnumerable<string?> Candidates(string name)
    {
        if (Environment.GetEnvironmentVariable(PathVariable) is { Length: > 0 } configured) yield return configured;
        yield return null; // normal probing: librdkafka.so next to the plugin, runtimes/…/native, LD_LIBRARY_PATH, -dev symlink
        if (OperatingSystem.IsLinux())
        {
            yield return "librdkafka.so.1";
            foreach (var dir in new[] { "/usr/lib/x86_64-linux-gnu", "/usr/lib/aarch64-linux-gnu", "/usr/local/lib", "/usr/lib64", "/usr/lib" })
                yield return Path.Combine(dir, "librdkafka.so.1");
        }
        else if (OperatingSystem.IsMacOS())
        {
            yield return "librdkafka.1.dylib";
            yield return "/opt/homebrew/lib/librdkafka.1.dylib";
            yield return "/usr/local/lib/librdkafka.1.dylib";
        }
        else if (OperatingSystem.IsWindows())
        {
            yield return "librdkafka.dll";
        }
    }
}
