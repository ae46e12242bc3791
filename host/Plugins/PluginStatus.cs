namespace PluginHost.Plugins;

/// <summary>One plugin as the REST API (<c>GET /plugins</c>) and the log show it. An immutable snapshot.</summary>
/// <param name="Name">The plugin's folder name under <c>plugins_dir</c>.</param>
/// <param name="Directory">Full path of that folder.</param>
/// <param name="State">Loaded or Failed.</param>
/// <param name="Version">Version of the running copy (informational version of its main assembly), null when none runs.</param>
/// <param name="AssemblyFile">File name of the main DLL of the running copy.</param>
/// <param name="SinkTypes">Sink types it registered (<c>sink: { type: … }</c>).</param>
/// <param name="HelperTypes">Full names of its <c>[HelperFunctions]</c> classes.</param>
/// <param name="Error">Why the last load of its files failed; with <see cref="PluginState.Loaded"/> the previous version keeps running.</param>
/// <param name="LoadedAt">When the running copy was loaded.</param>
/// <param name="ErrorAt">When <see cref="Error"/> happened.</param>
/// <param name="Loads">How many versions were loaded successfully since the host started (1 + reloads).</param>
/// <param name="PendingUnloads">Older versions whose load context is not collected yet (a pipeline has not reached its next
/// transaction boundary, or something still references them).</param>
/// <param name="Retiring">Each of those versions and what its unload waits for.</param>
internal sealed record PluginStatus(
    string Name,
    string Directory,
    PluginState State,
    string? Version,
    string? AssemblyFile,
    IReadOnlyList<string> SinkTypes,
    IReadOnlyList<string> HelperTypes,
    string? Error,
    DateTimeOffset? LoadedAt,
    DateTimeOffset? ErrorAt,
    int Loads,
    int PendingUnloads,
    IReadOnlyList<PendingUnload>? Retiring = null);

/// <summary>An old version of a plugin that is not unloaded yet.</summary>
/// <param name="Load">Its load number (as in the log's <c>load #N</c>).</param>
/// <param name="Version">Its version.</param>
/// <param name="WaitingFor">What it waits for: a pipeline's sink switch, a transform version that uses its helpers, or the garbage collector.</param>
internal sealed record PendingUnload(int Load, string? Version, string WaitingFor);
