namespace PluginHost.Plugins;

/// <summary>Settings of the <see cref="PluginManager"/>.</summary>
internal sealed class PluginManagerOptions
{
    /// <summary>The plugins directory (<c>plugins_dir</c>): one sub-folder per plugin.</summary>
    public required string Directory { get; init; }

    /// <summary>Watch the directory and hot-reload plugins whose files change (on for <c>pluginhost run</c>).</summary>
    public bool Watch { get; init; } = true;

    /// <summary>Quiet period after the last file event of a plugin folder before it is reloaded: copying several
    /// files is one change.</summary>
    public TimeSpan DebounceDelay { get; init; } = TimeSpan.FromMilliseconds(500);

    /// <summary>Where native libraries of plugins are copied before loading (default: <c>{temp}/pluginhost-shadow</c>).</summary>
    public string? ShadowDirectory { get; init; }
}
