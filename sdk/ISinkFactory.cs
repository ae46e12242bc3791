namespace PluginHost.Sdk;

/// <summary>Creates sinks of one type (the <c>sink: { type: … }</c> of a pipeline). Plugins expose one per sink type.</summary>
public interface ISinkFactory
{
    /// <summary>The sink type name used in configuration, e.g. <c>webhook</c>.</summary>
    string Type { get; }

    /// <summary>
    /// Creates a sink from its pipeline's settings. Throw <see cref="SinkConfigurationException"/> naming the key for
    /// invalid settings.
    /// </summary>
    ISink Create(SinkContext context);
}
