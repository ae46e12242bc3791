namespace PluginHost.Config;

/// <summary>The whole configuration file (<c>pluginhost.yaml</c>).</summary>
internal sealed class HostOptions
{
    public ServerOptions Server { get; set; } = new();
    public LogOptions Log { get; set; } = new();
    public MemoryOptions Memory { get; set; } = new();

    /// <summary>Cluster mode (docs/cluster.md); null: this host runs every pipeline itself.</summary>
    public ClusterOptions? Cluster { get; set; }

    /// <summary>
    /// Folder of plugin folders (each holding a plugin DLL and its dependencies), relative to the configuration file.
    /// Null (not set): the plugins shipped or built with the host (<see cref="PluginDirectories.BuiltPlugins"/>).
    /// </summary>
    public string? PluginsDir { get; set; }

    /// <summary>Folder of transform scripts.</summary>
    public string TransformsDir { get; set; } = "transforms";

    /// <summary>Folder of checkpoints and other state.</summary>
    public string StateDir { get; set; } = "state";

    /// <summary>
    /// The only folder pipelines defined over the REST API may write to (sink paths, dead-letter files; relative paths
    /// are resolved against it). Null: <c>state_dir/output</c>. Paths in this file are not confined.
    /// </summary>
    public string? OutputDir { get; set; }

    public List<PipelineOptions> Pipelines { get; set; } = [];
}
