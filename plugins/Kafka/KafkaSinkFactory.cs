using PluginHost.Sdk;

namespace PluginHost.Plugins.Kafka;

/// <summary><c>sink: { type: kafka, … }</c> — see <see cref="KafkaSinkOptions"/>.</summary>
public sealed class KafkaSinkFactory : ISinkFactory
{
    public string Type => "kafka";

    public ISink Create(SinkContext context) => new KafkaSink(context);
}
