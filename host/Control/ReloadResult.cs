namespace PluginHost.Control;

/// <summary>The outcome of a configuration reload.</summary>
internal sealed record ReloadResult(string File, IReadOnlyList<string> Added, IReadOnlyList<string> Changed, IReadOnlyList<string> Removed,
    IReadOnlyList<string> Unchanged, IReadOnlyList<string> OverriddenByApi, IReadOnlyList<string> RestartRequired);
