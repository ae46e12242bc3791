using System.Reflection.Metadata;
using System.Reflection.PortableExecutable;

namespace PluginHost.Plugins;

/// <summary>
/// The layout of <c>plugins_dir</c>: every sub-folder is one plugin, named after the folder; its main DLL is, in this
/// order of precedence:
/// <list type="number">
/// <item><c>NAME/NAME.dll</c> (folder name = assembly name);</item>
/// <item>else the only <c>*.dll</c> in the folder with a <c>.deps.json</c> of the same name beside it (what
/// <c>dotnet build</c> writes for the project itself, not for its dependencies);</item>
/// <item>else the only <c>*.dll</c> in the folder that references <c>PluginHost.Sdk</c>.</item>
/// </list>
/// Anything else (no candidate, or several at the first rule that finds any) is an error naming the files.
/// Only the folder's top level is searched; <c>PluginHost.Sdk.dll</c> is never a candidate (the host's own copy is
/// used). Files directly in <c>plugins_dir</c> and folders whose name starts with '.' are ignored.
/// </summary>
internal static class PluginFolder
{
    public const string SdkAssemblyName = "PluginHost.Sdk";

    /// <summary>True for a folder name that can be a plugin (not hidden).</summary>
    public static bool IsPluginName(string name) => name.Length > 0 && name[0] != '.';

    /// <summary>The plugin folders of a plugins directory, by name (ordinal order).</summary>
    public static IReadOnlyList<string> List(string pluginsDirectory)
    {
        if (!Directory.Exists(pluginsDirectory)) return [];
        return Directory.GetDirectories(pluginsDirectory).Select(Path.GetFileName).OfType<string>()
            .Where(IsPluginName).Order(StringComparer.Ordinal).ToList();
    }

    /// <summary>True when the folder holds any DLL but the sdk's (a candidate for <see cref="FindMainAssembly"/>).</summary>
    public static bool HasAnyDll(string folder) =>
        System.IO.Directory.Exists(folder) && System.IO.Directory.EnumerateFiles(folder, "*.dll", SearchOption.TopDirectoryOnly)
            .Any(p => !Path.GetFileNameWithoutExtension(p).Equals(SdkAssemblyName, StringComparison.OrdinalIgnoreCase));

    /// <summary>Finds the main DLL of a plugin folder per the rule above, or throws <see cref="PluginLoadException"/>.</summary>
    public static string FindMainAssembly(string folder)
    {
        var name = Path.GetFileName(Path.TrimEndingDirectorySeparator(folder));
        if (!Directory.Exists(folder)) throw new PluginLoadException($"plugin folder {folder} does not exist");
        var dlls = Directory.GetFiles(folder, "*.dll", SearchOption.TopDirectoryOnly)
            .Where(p => !Path.GetFileNameWithoutExtension(p).Equals(SdkAssemblyName, StringComparison.OrdinalIgnoreCase))
            .Order(StringComparer.Ordinal).ToList();
        if (dlls.Count == 0)
            throw new PluginLoadException($"no .dll in {folder} (a plugin folder holds the plugin's DLL, its .deps.json and its dependencies)");

        var exact = dlls.FirstOrDefault(p => Path.GetFileNameWithoutExtension(p).Equals(name, StringComparison.OrdinalIgnoreCase));
        if (exact != null) return exact;

        var withDeps = dlls.Where(p => File.Exists(Path.ChangeExtension(p, ".deps.json"))).ToList();
        if (withDeps.Count == 1) return withDeps[0];
        if (withDeps.Count > 1)
            throw new PluginLoadException($"cannot tell the plugin's main DLL in {folder}: several DLLs have a .deps.json ({Names(withDeps)}); " +
                                          $"name it {name}.dll or keep one plugin per folder");

        var referencingSdk = dlls.Where(ReferencesSdk).ToList();
        if (referencingSdk.Count == 1) return referencingSdk[0];
        if (referencingSdk.Count > 1)
            throw new PluginLoadException($"cannot tell the plugin's main DLL in {folder}: several DLLs reference {SdkAssemblyName} ({Names(referencingSdk)}); " +
                                          $"name it {name}.dll or keep one plugin per folder");
        throw new PluginLoadException($"no plugin DLL in {folder}: expected {name}.dll, or one DLL with a .deps.json beside it, " +
                                      $"or one DLL referencing {SdkAssemblyName} (found {Names(dlls)})");
    }

    /// <summary>True when the file is a .NET assembly that references PluginHost.Sdk (read from metadata, nothing is loaded).</summary>
    public static bool ReferencesSdk(string path)
    {
        try
        {
            using var stream = new MemoryStream(PluginLoadContext.ReadShared(path), writable: false);
            using var pe = new PEReader(stream);
            if (!pe.HasMetadata) return false;
            var reader = pe.GetMetadataReader();
            foreach (var handle in reader.AssemblyReferences)
                if (reader.StringComparer.Equals(reader.GetAssemblyReference(handle).Name, SdkAssemblyName)) return true;
            return false;
        }
        catch (Exception e) when (e is BadImageFormatException or IOException or InvalidOperationException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    /// <summary>
    /// A cheap identity of the folder's content (relative path, size and write time of every file), to skip reloads
    /// when a watcher event changed nothing. The listing itself, compared exactly (hashing it with SHA-256 loaded the
    /// platform's crypto library, about 4 MB of resident memory, into hosts that otherwise never need it).
    /// </summary>
    public static string Fingerprint(string folder)
    {
        if (!Directory.Exists(folder)) return "";
        var sb = new System.Text.StringBuilder();
        foreach (var file in Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
        {
            try
            {
                var info = new FileInfo(file);
                sb.Append(Path.GetRelativePath(folder, file)).Append('|').Append(info.Length).Append('|')
                    .Append(info.LastWriteTimeUtc.Ticks).Append('\n');
            }
            catch (IOException) { }
        }
        return sb.ToString();
    }

    private static string Names(IEnumerable<string> paths) => string.Join(", ", paths.Select(Path.GetFileName));
}
