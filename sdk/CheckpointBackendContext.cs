using System.Text.Json;

namespace PluginHost.Sdk;

/// <summary>What a checkpoint store factory gets to build a store.</summary>
public sealed class CheckpointBackendContext
{
    public CheckpointBackendContext(string pipelineName, JsonElement settings, JsonElement sinkSettings, IPluginLogger logger, string baseDirectory)
    {
        PipelineName = pipelineName;
        Settings = settings;
        SinkSettings = sinkSettings;
        Logger = logger;
        BaseDirectory = baseDirectory;
    }

    /// <summary>Name of the pipeline whose checkpoint the store keeps.</summary>
    public string PipelineName { get; }

    /// <summary>The pipeline's <c>checkpoint.settings</c> mapping (an empty object when none were given).</summary>
    public JsonElement Settings { get; }

    /// <summary>The pipeline's <c>sink:</c> block, for stores that may share connection settings with the sink.</summary>
    public JsonElement SinkSettings { get; }

    public IPluginLogger Logger { get; }

    /// <summary>Directory relative paths in the settings are resolved against (the config file's directory).</summary>
    public string BaseDirectory { get; }

    /// <summary>Binds <see cref="Settings"/> like <see cref="SinkContext.Bind{T}"/> (snake_case keys, unknown keys are errors).</summary>
    public T Bind<T>() where T : new() => SettingsBinder.Bind<T>(Settings);
}
