using System.Text.Json;

namespace PluginHost.Sdk;

/// <summary>What a sink factory gets to build a sink.</summary>
public sealed class SinkContext
{
    public SinkContext(string pipelineName, JsonElement settings, IPluginLogger logger, string baseDirectory)
    {
        PipelineName = pipelineName;
        Settings = settings;
        Logger = logger;
        BaseDirectory = baseDirectory;
    }

    /// <summary>Name of the pipeline the sink serves.</summary>
    public string PipelineName { get; }

    /// <summary>The pipeline's <c>sink:</c> block (keys as written, <c>type</c> included), secrets already substituted.</summary>
    public JsonElement Settings { get; }

    public IPluginLogger Logger { get; }

    /// <summary>Directory relative paths in the settings are resolved against (the config file's directory; for a pipeline set over the REST API, the host's output root).</summary>
    public string BaseDirectory { get; }

    /// <summary>
    /// The host's confinement of path settings (null: none, paths are free). Takes the setting's key and value, returns
    /// the full path or throws <see cref="SinkConfigurationException"/> naming the key. Use <see cref="ResolvePath"/>.
    /// </summary>
    public Func<string, string, string>? PathResolver { get; init; }

    /// <summary>
    /// Resolves the path setting <paramref name="key"/> (e.g. <c>path</c>, <c>dead_letter</c>) to a full path. For a
    /// pipeline defined over the REST API the host confines it to its output root (symlinks and <c>..</c> resolved) and
    /// throws <see cref="SinkConfigurationException"/> naming <paramref name="key"/> when it leads elsewhere. Plugins
    /// should resolve every file they write or read through this.
    /// </summary>
    public string ResolvePath(string key, string value) =>
        PathResolver is { } resolve ? resolve(key, value) : Path.GetFullPath(Path.Combine(BaseDirectory, value));

    /// <summary>
    /// Binds the settings to an options type: snake_case keys map to PascalCase properties (<c>max_retries</c> →
    /// <c>MaxRetries</c>), durations accept <c>500ms</c>, <c>30s</c>, <c>5m</c>. Unknown keys are errors.
    /// </summary>
    public T Bind<T>() where T : new() => SettingsBinder.Bind<T>(Settings);
}
