using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace PluginHost.Scripting;

/// <summary>
/// Compiled transform versions kept on disk (<c>state_dir/transform-cache</c>), so a restarted host loads a script it
/// compiled before instead of starting Roslyn (half a second of a cold compiler on the start-up's critical path).
/// An entry is keyed by everything the image depends on: the script's name and text, each helper plugin's exact bytes,
/// the sdk and host builds and the runtime version; anything else changed is a different key. An entry whose image
/// does not match its recorded hash is ignored (and compiled again). Only successful builds are kept, the newest
/// <see cref="MaxEntries"/>. The directory is as trusted as <c>plugins_dir</c>: its images are executed.
/// </summary>
internal sealed class CompiledScriptCache
{
    private const string Format = "pluginhost-transform-cache-1";
    private static readonly JsonSerializerOptions Json = new() { WriteIndented = false };

    /// <param name="directory">Where entries live (created on the first store).</param>
    public CompiledScriptCache(string directory) => Directory = Path.GetFullPath(directory);

    /// <summary>The cache folder.</summary>
    public string Directory { get; }

    /// <summary>Entries kept; older ones are removed when a new one is stored.</summary>
    public int MaxEntries { get; init; } = 64;

    /// <summary>The cache for a state directory: <c>STATE_DIR/transform-cache</c>.</summary>
    public static CompiledScriptCache ForStateDirectory(string stateDirectory) => new(Path.Combine(stateDirectory, "transform-cache"));

    /// <summary>The entry key of a script text compiled against these helpers by this host.</summary>
    public static string KeyOf(string path, string text, IReadOnlyList<HelperAssembly> helpers)
    {
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        void Add(string s)
        {
            sha.AppendData(Encoding.UTF8.GetBytes(s));
            sha.AppendData([0]);
        }
        Add(Format);
        Add(Environment.Version.ToString());
        Add(typeof(CompiledScriptCache).Assembly.ManifestModule.ModuleVersionId.ToString());
        Add(typeof(Sdk.ChangeEvent).Assembly.ManifestModule.ModuleVersionId.ToString());
        Add(path);
        Add(text);
        foreach (var h in helpers.OrderBy(h => h.PluginName, StringComparer.Ordinal))
        {
            Add(h.PluginName);
            Add(Convert.ToHexString(SHA256.HashData(h.Image)));
            foreach (var t in h.HelperTypes) Add(t);
        }
        return Convert.ToHexStringLower(sha.GetHashAndReset())[..32];
    }

    /// <summary>The cached build for <paramref name="key"/>, bound to the current <paramref name="helpers"/>; null when there is none (or it is damaged).</summary>
    public ScriptBuild? TryGet(string key, string path, string contentHash, IReadOnlyList<HelperAssembly> helpers)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        try
        {
            var meta = Path.Combine(Directory, key + ".json");
            var dll = Path.Combine(Directory, key + ".dll");
            if (!File.Exists(meta) || !File.Exists(dll)) return null;
            var entry = JsonSerializer.Deserialize<Entry>(File.ReadAllBytes(meta), Json);
            if (entry is null || entry.Format != Format || entry.Path != path) return null;
            var image = File.ReadAllBytes(dll);
            if (!string.Equals(Convert.ToHexStringLower(SHA256.HashData(image)), entry.ImageSha256, StringComparison.Ordinal)) return null;
            var used = new List<HelperAssembly>();
            foreach (var name in entry.UsedHelpers)
            {
                if (helpers.FirstOrDefault(h => h.PluginName == name) is not { } helper) return null;
                used.Add(helper);
            }
            File.SetLastWriteTimeUtc(meta, DateTime.UtcNow); // recently used entries survive pruning
            return new ScriptBuild(path, entry.Warnings, image, entry.ScriptClass, entry.Shape, entry.HasGuard, contentHash, helpers, clock.Elapsed)
            {
                UsedHelpers = used,
                FromCache = true,
            };
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or JsonException or NotSupportedException)
        {
            return null; // compiled anew, and stored again
        }
    }

    /// <summary>Keeps a successful build (best effort: a cache that cannot be written only costs the next start a compile).</summary>
    public void Store(string key, ScriptBuild build)
    {
        if (!build.Success || build.FromCache) return;
        try
        {
            System.IO.Directory.CreateDirectory(Directory);
            var entry = new Entry(Format, build.Path, build.ScriptClass!, build.Shape, build.HasGuard,
                Convert.ToHexStringLower(SHA256.HashData(build.Image!)), [.. build.UsedHelpers.Select(h => h.PluginName)], [.. build.Diagnostics]);
            WriteAtomically(Path.Combine(Directory, key + ".dll"), build.Image!);
            WriteAtomically(Path.Combine(Directory, key + ".json"), JsonSerializer.SerializeToUtf8Bytes(entry, Json)); // written last: it makes the entry visible
            Prune();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
        }
    }

    private static void WriteAtomically(string path, byte[] bytes)
    {
        var temp = path + "." + Environment.ProcessId + "." + Guid.NewGuid().ToString("N")[..8] + ".tmp";
        File.WriteAllBytes(temp, bytes);
        File.Move(temp, path, overwrite: true);
    }

    /// <summary>Files older than this that belong to no entry (left by a process that died between its writes) are removed.</summary>
    private static readonly TimeSpan OrphanAge = TimeSpan.FromMinutes(10);

    /// <summary>
    /// Keeps the newest <see cref="MaxEntries"/> entries, and removes what a crash can leave: temporary files and images
    /// without their entry file, once they are old enough not to be another process's store in progress.
    /// </summary>
    private void Prune()
    {
        var files = new DirectoryInfo(Directory).GetFiles();
        var entries = files.Where(f => f.Extension == ".json").OrderByDescending(f => f.LastWriteTimeUtc).ToList();
        var kept = entries.Take(MaxEntries).Select(f => Path.GetFileNameWithoutExtension(f.Name)).ToHashSet(StringComparer.Ordinal);
        var orphanBefore = DateTime.UtcNow - OrphanAge;
        foreach (var file in files)
        {
            var name = Path.GetFileNameWithoutExtension(file.Name);
            var remove = file.Extension switch
            {
                ".json" => !kept.Contains(name),
                ".dll" => !kept.Contains(name) && (entries.Any(e => Path.GetFileNameWithoutExtension(e.Name) == name) || file.LastWriteTimeUtc < orphanBefore),
                ".tmp" => file.LastWriteTimeUtc < orphanBefore,
                _ => false,
            };
            if (!remove) continue;
            try
            {
                file.Delete();
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
            }
        }
    }

    private sealed record Entry(string Format, string Path, string ScriptClass, TransformShape Shape, bool HasGuard, string ImageSha256,
        List<string> UsedHelpers, List<ScriptDiagnostic> Warnings);
}
