using PluginHost.Sdk;

namespace PluginHost.Sinks;

/// <summary>The built-in <c>file</c> sink: <c>sink: { type: file, path: out/events.jsonl }</c> (<c>path: "-"</c> for stdout).</summary>
internal sealed class FileSinkFactory : ISinkFactory
{
    public string Type => "file";

    public ISink Create(SinkContext context)
    {
        var options = context.Bind<FileSinkOptions>();
        if (string.IsNullOrWhiteSpace(options.Path)) throw new SinkConfigurationException("path", "is required (a .jsonl file, or - for stdout)");
        var path = options.Path == "-" ? "-" : context.ResolvePath("path", options.Path);
        var sink = new FileSink(path, options.Fsync);
        if (sink.Foreign)
            context.Logger.Warning($"file sink: {path} was not created by this sink (no {FileSinkMarker.Suffix} marker beside it): events are appended, " +
                                   "and a line torn by a crash is not repaired; start a new file to have it repaired");
        return sink;
    }
}
