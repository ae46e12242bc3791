using System.Reflection;
using System.Runtime.InteropServices;
using System.Runtime.Loader;

namespace PluginHost.Plugins;

/// <summary>
/// The collectible load context of one version of one plugin. Resolves the plugin's own dependencies with an
/// <see cref="AssemblyDependencyResolver"/> over its <c>.deps.json</c> (so two plugins may carry different versions of
/// the same library), and shares from the default context:
/// <list type="bullet">
/// <item><c>PluginHost.Sdk</c>, always, so <c>ISink</c>, <c>ChangeEvent</c>… are the host's types;</item>
/// <item>shared-framework assemblies (<c>System.*</c>, <c>Microsoft.Extensions.*</c> of the installed runtime) whenever
/// the framework's version is at least the one the plugin was built against.</item>
/// </list>
/// <para><b>Shadow copy</b>: managed assemblies are read into memory and loaded from the bytes
/// (<see cref="AssemblyLoadContext.LoadFromStream(Stream, Stream?)"/>), and native libraries are copied to a private
/// temp folder before loading, so the plugin's files can be overwritten or deleted while it runs.</para>
/// </summary>
internal sealed class PluginLoadContext : AssemblyLoadContext
{
    /// <summary>Assemblies always taken from the default context (the contract plugins and host must agree on).</summary>
    public static readonly IReadOnlySet<string> SharedAssemblies = new HashSet<string>(StringComparer.OrdinalIgnoreCase) { "PluginHost.Sdk" };

    private static readonly Lazy<Dictionary<string, string>> FrameworkAssemblies = new(FindFrameworkAssemblies);
    private static readonly Dictionary<string, Version?> FrameworkVersions = new(StringComparer.OrdinalIgnoreCase);

    private readonly AssemblyDependencyResolver _resolver;
    private readonly Dictionary<string, byte[]> _images = new(StringComparer.Ordinal);
    private readonly object _imagesGate = new();
    private string? _nativeDirectory;

    public PluginLoadContext(string pluginName, int generation, string mainAssemblyPath, string shadowRoot)
        : base($"plugin {pluginName} #{generation}", isCollectible: true)
    {
        PluginName = pluginName;
        Generation = generation;
        MainAssemblyPath = Path.GetFullPath(mainAssemblyPath);
        ShadowRoot = shadowRoot;
        _resolver = new AssemblyDependencyResolver(MainAssemblyPath);
        Unloading += _ => DeleteNativeCopies();
    }

    public string PluginName { get; }
    public int Generation { get; }
    public string MainAssemblyPath { get; }

    /// <summary>Root of the temp folders native libraries are copied to.</summary>
    public string ShadowRoot { get; }

    /// <summary>Loads the plugin's main assembly (from an in-memory copy of its file).</summary>
    public Assembly LoadMainAssembly() => LoadShadowCopy(MainAssemblyPath);

    /// <summary>The bytes an assembly of this context was loaded from (for compiling scripts against it).</summary>
    public byte[]? ImageOf(Assembly assembly)
    {
        var name = assembly.GetName().Name ?? "";
        lock (_imagesGate) return _images.GetValueOrDefault(name);
    }

    /// <summary>True when <paramref name="assembly"/> was loaded from the plugin's own files (not shared).</summary>
    public bool Owns(Assembly assembly) => GetLoadContext(assembly) == this;

    protected override Assembly? Load(AssemblyName assemblyName)
    {
        var name = assemblyName.Name;
        if (name is null || SharedAssemblies.Contains(name)) return null;
        if (IsFrameworkAssembly(assemblyName) || IsProvidedByFramework(assemblyName)) return null;
        var path = _resolver.ResolveAssemblyToPath(assemblyName);
        // Not the plugin's own: let the default context try (and fail with a clear FileNotFoundException).
        return path is null ? null : LoadShadowCopy(path);
    }

    protected override IntPtr LoadUnmanagedDll(string unmanagedDllName)
    {
        var path = _resolver.ResolveUnmanagedDllToPath(unmanagedDllName);
        if (path is null) return IntPtr.Zero;
        var directory = NativeDirectory();
        var copy = Path.Combine(directory, Path.GetFileName(path));
        if (!File.Exists(copy)) File.WriteAllBytes(copy, ReadShared(path));
        return LoadUnmanagedDllFromPath(copy);
    }

    private Assembly LoadShadowCopy(string path)
    {
        var image = ReadShared(path);
        var pdbPath = Path.ChangeExtension(path, ".pdb");
        byte[]? pdb = null;
        if (File.Exists(pdbPath))
        {
            try { pdb = ReadShared(pdbPath); } catch (IOException) { } // symbols are optional
        }
        using var imageStream = new MemoryStream(image, writable: false);
        using var pdbStream = pdb is null ? null : new MemoryStream(pdb, writable: false);
        var assembly = LoadFromStream(imageStream, pdbStream);
        lock (_imagesGate) _images[assembly.GetName().Name ?? path] = image;
        return assembly;
    }

    private string NativeDirectory()
    {
        if (_nativeDirectory != null) return _nativeDirectory;
        var dir = Path.Combine(ShadowRoot, $"{Environment.ProcessId}-{Sanitize(PluginName)}-{Generation}-{Guid.NewGuid().ToString("N")[..8]}");
        Directory.CreateDirectory(dir);
        return _nativeDirectory = dir;
    }

    private void DeleteNativeCopies()
    {
        lock (_imagesGate) _images.Clear();
        if (_nativeDirectory is null) return;
        try { Directory.Delete(_nativeDirectory, recursive: true); }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }

    /// <summary>Reads a file allowing others to write or delete it meanwhile; retries briefly while it is being replaced.</summary>
    public static byte[] ReadShared(string path)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
                var bytes = new byte[stream.Length];
                stream.ReadExactly(bytes);
                return bytes;
            }
            catch (IOException) when (attempt < 5 && File.Exists(path))
            {
                Thread.Sleep(50 * attempt);
            }
        }
    }

    /// <summary>
    /// True when <paramref name="requested"/> names a shared-framework assembly at a version no newer than this runtime's
    /// (a plugin built for this or an older .NET): it is there, and needs no check before it is used. (Reading the
    /// file's exact version, as <see cref="Load"/> does, would load System.Reflection.Metadata into every host.)
    /// </summary>
    internal static bool IsFrameworkAssembly(AssemblyName requested) =>
        requested.Name is { } name && FrameworkAssemblies.Value.ContainsKey(name) &&
        (requested.Version is null || requested.Version.Major <= Environment.Version.Major);

    /// <summary>True when the shared framework has this assembly at the requested version or newer.</summary>
    private static bool IsProvidedByFramework(AssemblyName requested)
    {
        if (!FrameworkAssemblies.Value.TryGetValue(requested.Name!, out var path)) return false;
        Version? available;
        lock (FrameworkVersions)
        {
            if (!FrameworkVersions.TryGetValue(requested.Name!, out available))
            {
                try { available = AssemblyName.GetAssemblyName(path).Version; }
                catch (Exception e) when (e is IOException or BadImageFormatException or UnauthorizedAccessException) { available = null; }
                FrameworkVersions[requested.Name!] = available;
            }
        }
        return available != null && (requested.Version is null || available >= requested.Version);
    }

    /// <summary>Assemblies of the installed shared frameworks (Microsoft.NETCore.App, Microsoft.AspNetCore.App…) by name.</summary>
    private static Dictionary<string, string> FindFrameworkAssemblies()
    {
        var result = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        // …/dotnet/shared/Microsoft.NETCore.App/10.0.x/ → …/dotnet/shared/
        var runtimeDir = RuntimeEnvironment.GetRuntimeDirectory();
        var sharedRoot = Directory.GetParent(Path.TrimEndingDirectorySeparator(runtimeDir))?.Parent?.FullName;
        if (AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES") is string tpa && sharedRoot != null)
        {
            var prefix = Path.TrimEndingDirectorySeparator(sharedRoot) + Path.DirectorySeparatorChar;
            foreach (var path in tpa.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
                if (path.StartsWith(prefix, StringComparison.Ordinal))
                    result.TryAdd(Path.GetFileNameWithoutExtension(path), path);
        }
        return result;
    }

    private static string Sanitize(string name) => string.Concat(name.Select(c => char.IsLetterOrDigit(c) || c is '-' or '_' or '.' ? c : '_'));
}
