namespace PluginHost.Plugins;

/// <summary>Whether a version of a plugin is running.</summary>
internal enum PluginState
{
    /// <summary>A version is loaded and its sinks/helpers are registered. <see cref="PluginStatus.Error"/> set means
    /// newer files were rejected and this (previous) version keeps running.</summary>
    Loaded,

    /// <summary>No version could be loaded; <see cref="PluginStatus.Error"/> says why.</summary>
    Failed,

    /// <summary>Its folder was removed and it was unloaded (only seen in <see cref="PluginManager.StatusChanged"/>;
    /// removed plugins leave the list).</summary>
    Removed,
}
