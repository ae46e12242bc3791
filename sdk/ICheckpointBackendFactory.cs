namespace PluginHost.Sdk;

/// <summary>Creates checkpoint stores of one type (the <c>checkpoint: { type: … }</c> of a pipeline). Plugins expose one per store type.</summary>
public interface ICheckpointBackendFactory
{
    /// <summary>The store type name used in configuration, e.g. <c>kafka</c>.</summary>
    string Type { get; }

    /// <summary>
    /// Creates a store for one pipeline from its <c>checkpoint.settings</c>. Throw <see cref="SinkConfigurationException"/>
    /// naming the key for invalid settings. Should not block on the network: connect lazily in the first call.
    /// </summary>
    ICheckpointBackend Create(CheckpointBackendContext context);
}
