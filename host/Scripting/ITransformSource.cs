namespace PluginHost.Scripting;

/// <summary>The outcome of building one version: the version (null on failure) and the diagnostics.</summary>
internal sealed record TransformBuild(ITransformVersion? Loaded, IReadOnlyList<ScriptDiagnostic> Diagnostics, bool FromCache = false);

/// <summary>What a <see cref="ScriptTransformHost"/> watches, reads and builds: a C# script, a JavaScript file or a rule chain.</summary>
internal interface ITransformSource
{
    /// <summary>The files to watch (full paths).</summary>
    IReadOnlyList<string> Files { get; }

    /// <summary>Reads the current source (every file of it); throws <see cref="IOException"/> or <see cref="UnauthorizedAccessException"/>.</summary>
    string Read();

    /// <summary>Identifies <paramref name="text"/> built against <paramref name="helpers"/> (equal hashes: nothing to rebuild).</summary>
    string Hash(string text, IReadOnlyList<HelperAssembly> helpers);

    /// <summary>Builds and loads a version; errors are diagnostics, not exceptions.</summary>
    Task<TransformBuild> BuildAsync(string displayPath, string text, IReadOnlyList<HelperAssembly> helpers, TimeSpan timeout, CompiledScriptCache? cache);

    /// <summary>True when <paramref name="version"/> calls a helper of <paramref name="current"/> that changed.</summary>
    bool DependsOnChanged(ITransformVersion version, IReadOnlyList<HelperAssembly> current) =>
        version.UsedHelpers.Any(used => !current.Any(h => ReferenceEquals(h, used) || h.PluginName == used.PluginName && h.Version == used.Version));
}
