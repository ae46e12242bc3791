namespace PluginHost.Config;

/// <summary>
/// A validated, immutable configuration snapshot. A change (file edit, REST call) builds and validates a new
/// snapshot and swaps it in; an invalid one never replaces a running one.
/// </summary>
internal sealed class HostConfig
{
    internal HostConfig(HostOptions options, string filePath, IReadOnlyList<PipelineDefinition> pipelines)
    {
        Options = options;
        FilePath = filePath;
        BaseDirectory = Path.GetDirectoryName(Path.GetFullPath(filePath)) ?? Directory.GetCurrentDirectory();
        Pipelines = pipelines;
    }

    public HostOptions Options { get; }

    /// <summary>The file the configuration came from (or a name for configurations from elsewhere).</summary>
    public string FilePath { get; }

    /// <summary>Relative paths in the configuration are resolved against this directory.</summary>
    public string BaseDirectory { get; }

    public IReadOnlyList<PipelineDefinition> Pipelines { get; }

    /// <summary>Things to tell the user at start that are not errors (e.g. pikachu settings that were not carried over).</summary>
    public IReadOnlyList<string> Warnings { get; internal set; } = [];

    /// <summary>Resolves a configured path against <see cref="BaseDirectory"/>.</summary>
    public string Resolve(string path) => Path.GetFullPath(Path.Combine(BaseDirectory, path));

    public string StateDirectory => Resolve(Options.StateDir);

    /// <summary>
    /// <c>plugins_dir</c> resolved against <see cref="BaseDirectory"/>; when it is not set, the plugins built or shipped
    /// with the host (<see cref="PluginDirectories.BuiltPlugins"/>), wherever the configuration file is.
    /// </summary>
    public string PluginsDirectory => Options.PluginsDir is { } dir ? Resolve(dir) : PluginDirectories.BuiltPlugins;

    public string TransformsDirectory => Resolve(Options.TransformsDir);

    /// <summary><c>output_dir</c> resolved (default <c>state_dir/output</c>): where pipelines set over the REST API may write.</summary>
    public string OutputDirectory => Options.OutputDir is { } dir ? Resolve(dir) : Path.Combine(StateDirectory, "output");

    /// <summary>
    /// Where a pipeline's <c>transform:</c> is: a bare file name (<c>obfuscate.csx</c>) is looked up in
    /// <see cref="TransformsDirectory"/>, then next to the configuration file (configurations written before
    /// <c>transforms_dir</c> was honoured); a path with a folder part (<c>transforms/x.csx</c>, <c>/abs/x.csx</c>) is
    /// resolved against <see cref="BaseDirectory"/> like every other path.
    /// </summary>
    public string ResolveTransform(string path)
    {
        if (Path.GetFileName(path) != path) return Resolve(path);
        var inTransforms = Path.GetFullPath(Path.Combine(TransformsDirectory, path));
        if (File.Exists(inTransforms)) return inTransforms;
        var besideConfig = Resolve(path);
        return File.Exists(besideConfig) ? besideConfig : inTransforms;
    }
}
