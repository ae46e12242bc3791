namespace PluginHost.Scripting;

/// <summary>The helper-function assemblies currently loaded from plugins; scripts recompile when they change.</summary>
internal interface IHelperAssemblySource
{
    /// <summary>The current set (an immutable snapshot).</summary>
    IReadOnlyList<HelperAssembly> Current { get; }

    /// <summary>Raised after a helper plugin was loaded, reloaded or removed.</summary>
    event Action? Changed;

    /// <summary>A transform version that used helpers was unloaded: retired helper versions may be free to go now.</summary>
    void Released() { }
}
