namespace PluginHost.Scripting;

/// <summary>One loaded version of a transform (a compiled C# script or a JavaScript engine), as <see cref="ScriptTransformHost"/> manages it.</summary>
internal interface ITransformVersion : IEventTransform, IDisposable
{
    /// <summary>Hash of the source and the helper plugins it was built against.</summary>
    string ContentHash { get; }

    /// <summary>Warnings of the build.</summary>
    IReadOnlyList<ScriptDiagnostic> Warnings { get; }

    /// <summary>Helper plugins the version calls (a reload of one of them rebuilds it).</summary>
    IReadOnlyList<HelperAssembly> UsedHelpers { get; }

    /// <summary>True once <see cref="Unload"/> ran.</summary>
    bool IsUnloaded { get; }

    /// <summary>Tracks the version's code (its load context or engine) after <see cref="Unload"/> (tests).</summary>
    WeakReference ContextReference { get; }

    /// <summary>Raised when an event keeps running well past the limit where it cannot be interrupted.</summary>
    Action<string>? Stuck { get; set; }

    /// <summary>Raised when an event reported <see cref="Stuck"/> returned.</summary>
    Action? Recovered { get; set; }

    /// <summary>Releases the version; call only once the pipeline no longer uses it.</summary>
    void Unload();
}
