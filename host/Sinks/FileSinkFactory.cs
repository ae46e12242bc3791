using PluginHost.Sdk;

namespace PluginHost.Sinks;

/// <summary>The built-in <c>file</c> sink: <c>sink: { type: file, path: out/events.jsonl }</c> (<c>path: "-"</c> for stdout).</summary>
public sealed class FileSinkFactory : ISinkFactory
{
    public string Type => "file";

    public ISink Create(SinkContext context)
    {
        var options = context.Bind<FileSinkOptions>();
        if (string.IsNullOrWhiteSpace(options.Path)) throw new SinkConfigurationException("path", "is required (a .jsonl file, or - for stdout)");
        var path = options.Path == "-" ? "-" : Path.GetFullPath(Path.Combine(context.BaseDirectory, options.Path));
        return new FileSink(path, options.Fsync);
    }
}
