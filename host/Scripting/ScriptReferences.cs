using System.Runtime.CompilerServices;
using Microsoft.CodeAnalysis;
using PluginHost.Sdk;

namespace PluginHost.Scripting;

/// <summary>
/// What scripts compile against: the shared framework (Microsoft.NETCore.App, the assemblies the process runs on),
/// the sdk, and the helper plugins' images. Framework references are read once per process; a helper's reference
/// once per loaded version.
/// </summary>
internal static class ScriptReferences
{
    private static readonly Lazy<IReadOnlyList<MetadataReference>> Platform = new(LoadPlatform);
    private static readonly ConditionalWeakTable<byte[], MetadataReference> HelperReferences = new();

    /// <summary>The framework and sdk references.</summary>
    public static IReadOnlyList<MetadataReference> Base => Platform.Value;

    public static MetadataReference Of(HelperAssembly helper) =>
        HelperReferences.GetValue(helper.Image, image => MetadataReference.CreateFromImage(image, filePath: helper.PluginName + ".dll"));

    private static IReadOnlyList<MetadataReference> LoadPlatform()
    {
        var runtimeDir = Path.GetDirectoryName(typeof(object).Assembly.Location)!;
        var result = new List<MetadataReference>();
        var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        if (AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES") is string tpa)
        {
            foreach (var path in tpa.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
            {
                if (!string.Equals(Path.GetDirectoryName(path), runtimeDir, StringComparison.Ordinal)) continue;
                if (!path.EndsWith(".dll", StringComparison.OrdinalIgnoreCase) || !seen.Add(Path.GetFileName(path))) continue;
                result.Add(MetadataReference.CreateFromFile(path));
            }
        }
        if (result.Count == 0)
            foreach (var path in Directory.EnumerateFiles(runtimeDir, "*.dll"))
                if (IsManaged(path)) result.Add(MetadataReference.CreateFromFile(path));
        var sdk = typeof(ChangeEvent).Assembly;
        result.Add(sdk.Location.Length > 0
            ? MetadataReference.CreateFromFile(sdk.Location)
            : throw new InvalidOperationException("the PluginHost.Sdk assembly has no file location; scripts cannot be compiled against it"));
        return result;
    }

    private static bool IsManaged(string path)
    {
        try
        {
            System.Reflection.AssemblyName.GetAssemblyName(path);
            return true;
        }
        catch (Exception e) when (e is BadImageFormatException or IOException)
        {
            return false;
        }
    }
}
