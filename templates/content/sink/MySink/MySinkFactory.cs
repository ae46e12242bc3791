using PluginHost.Sdk;

namespace MySink;

/// <summary>
/// Creates the <c>mysink</c> sinks: the host finds this public class with a parameterless constructor in the plugin's
/// DLL and registers it under <see cref="Type"/>. Configure a pipeline with
/// <c>sink: { type: mysink, path: out/events.jsonl }</c>.
/// </summary>
public sealed class MySinkFactory : ISinkFactory
{
    public string Type => "mysink";

    public ISink Create(SinkContext context)
    {
        var options = context.Bind<MySinkOptions>(); // unknown keys are errors naming the key
        if (string.IsNullOrWhiteSpace(options.Path))
            throw new SinkConfigurationException("path", "is required: the file events are appended to");
        return new EventFileSink(context.ResolvePath("path", options.Path), context.Logger);
    }
}
