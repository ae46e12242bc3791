using System.Reflection;
using System.Runtime.Loader;

namespace PluginHost.Scripting;

/// <summary>
/// The collectible context of one compiled script version. The sdk and the framework come from the default context
/// (so <c>ChangeEvent</c> is the host's type); helper plugins resolve to the assemblies their plugin contexts already
/// loaded. Unloading it (after the pipeline stopped using the version) frees the script's code.
/// </summary>
internal sealed class ScriptLoadContext : AssemblyLoadContext
{
    private readonly Dictionary<string, Assembly> _helpers = new(StringComparer.OrdinalIgnoreCase);

    public ScriptLoadContext(string name, IReadOnlyList<HelperAssembly> helpers) : base(name, isCollectible: true)
    {
        foreach (var h in helpers)
            if (h.Assembly.GetName().Name is { } n) _helpers.TryAdd(n, h.Assembly);
    }

    /// <summary>Forgets helpers the script does not reference.</summary>
    public void KeepOnly(ISet<string> referenced)
    {
        foreach (var name in _helpers.Keys.Where(n => !referenced.Contains(n)).ToList()) _helpers.Remove(name);
    }

    protected override Assembly? Load(AssemblyName assemblyName) =>
        assemblyName.Name is { } n && _helpers.TryGetValue(n, out var a) ? a : null;
}
