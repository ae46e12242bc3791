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

    /// <summary>Directory relative paths in the settings are resolved against (the config file's directory).</summary>
    public string BaseDirectory { get; }

    /// <summary>
    /// Binds the settings to an options type: snake_case keys map to PascalCase properties (<c>max_retries</c> →
    /// <c>MaxRetries</c>), durations accept <c>500ms</c>, <c>30s</c>, <c>5m</c>. Unknown keys are errors.
    /// </summary>
    public T Bind<T>() where T : new() => SettingsBinder.Bind<T>(Settings);
}
